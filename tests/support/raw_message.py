"""Celery protocol-2 messages built by hand, as a producer in another language would.

The envelope is what kombu's Redis transport stores in the queue's list: a JSON
object whose `body` is the base64 of `[args, kwargs, embed]`. No Celery code is used.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import redis


def raw_envelope(
    task: str, queue: str, args: list[Any], kwargs: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    task_id = str(uuid.uuid4())
    body = [
        args,
        kwargs or {},
        {"callbacks": None, "errbacks": None, "chain": None, "chord": None},
    ]
    envelope = {
        "body": base64.b64encode(json.dumps(body).encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "js",
            "task": task,
            "id": task_id,
            "root_id": task_id,
            "parent_id": None,
            "group": None,
            "retries": 0,
            "eta": None,
            "expires": None,
            "timelimit": [None, None],
            "argsrepr": "(...)",
            "kwargsrepr": "{}",
            "origin": "raw-producer",
        },
        "properties": {
            "correlation_id": task_id,
            "reply_to": "",
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return task_id, envelope


def publish_raw(
    redis_url: str,
    task: str,
    queue: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
) -> str:
    """LPUSH a hand-built message onto `queue`; return its task id."""
    task_id, envelope = raw_envelope(task, queue, args, kwargs)
    client = redis.Redis.from_url(redis_url)
    try:
        client.lpush(queue, json.dumps(envelope))
    finally:
        client.close()
    return task_id


def stored_result(redis_url: str, task_id: str) -> dict[str, Any] | None:
    """The result backend's record of a task, read straight from Redis."""
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.get(f"celery-task-meta-{task_id}")
    finally:
        client.close()
    return None if raw is None else dict(json.loads(raw))
