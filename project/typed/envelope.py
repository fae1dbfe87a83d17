"""Celery protocol-2 messages as kombu's Redis transport stores them, built directly.

`delay_many` publishes many messages in one Redis round trip; it cannot go through
kombu's per-message publish path and stay fast, so it builds the same JSON that
path builds. The layout is documented for other languages in `project/envelope.md`
(copied out by `project schemas`); a test checks a stock worker runs the result.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

from celery import signals
from celery.utils.nodenames import anon_nodename
from celery.utils.time import utcoffset

# The `embed` part of the body: no callbacks, no chain, no chord.
NO_WORKFLOW = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
SENT_EVENT_KEY = "task.multi"


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """What every message of one bulk call shares."""

    task_name: str
    queue: str
    # [hard, soft] seconds, in the order Celery's `timelimit` header uses.
    time_limits: tuple[float | None, float | None]
    ignore_result: bool
    reply_to: str
    root_id: str | None = None
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Built:
    task_id: str
    message: str
    # The task-sent event for monitoring (Flower); None when events are off.
    event: dict[str, Any] | None
    # As Celery's publish signals see them, for `after_task_publish`.
    headers: dict[str, Any]
    body: tuple[Any, ...]


def build_message(spec: MessageSpec, data: Any, argsrepr: str, event: bool) -> Built:
    """One queue message for one payload's JSON form `data`.

    Sends `before_task_publish` as Celery's producer does, so receivers that
    stamp headers (the queue-age stamp of `project.health`) see bulk messages too.
    """
    task_id = str(uuid.uuid4())
    body: tuple[Any, ...] = ([data], {}, NO_WORKFLOW)
    root_id = spec.root_id or task_id
    headers = _headers(spec, task_id, root_id, argsrepr)
    properties = {
        "correlation_id": task_id,
        "reply_to": spec.reply_to,
        "delivery_mode": 2,
        "delivery_info": {"exchange": "", "routing_key": spec.queue},
        "priority": 0,
    }
    signals.before_task_publish.send(
        sender=spec.task_name,
        body=body,
        exchange="",
        routing_key=spec.queue,
        declare=[],
        headers=headers,
        properties=properties,
        retry_policy={},
    )
    envelope = {
        "body": base64.b64encode(json.dumps(body).encode()).decode("ascii"),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": properties
        | {"body_encoding": "base64", "delivery_tag": str(uuid.uuid4())},
    }
    sent = _sent_event(spec, task_id, root_id, argsrepr) if event else None
    return Built(task_id, json.dumps(envelope), sent, headers, body)


def after_publish(spec: MessageSpec, built: list[Built]) -> None:
    """`after_task_publish` for each message, once the chunk is in Redis."""
    for item in built:
        signals.after_task_publish.send(
            sender=spec.task_name,
            body=item.body,
            headers=item.headers,
            exchange="",
            routing_key=spec.queue,
        )


def _headers(
    spec: MessageSpec, task_id: str, root_id: str, argsrepr: str
) -> dict[str, Any]:
    return {
        "lang": "py",
        "task": spec.task_name,
        "id": task_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": list(spec.time_limits),
        "root_id": root_id,
        "parent_id": spec.parent_id,
        "argsrepr": argsrepr,
        "kwargsrepr": "{}",
        "origin": anon_nodename(),
        "ignore_result": spec.ignore_result,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
    }


def _sent_event(
    spec: MessageSpec, task_id: str, root_id: str, argsrepr: str
) -> dict[str, Any]:
    # The fields Celery's own `task-sent` event carries, so Flower shows the task.
    return {
        "uuid": task_id,
        "root_id": root_id,
        "parent_id": spec.parent_id,
        "name": spec.task_name,
        "args": argsrepr,
        "kwargs": "{}",
        "retries": 0,
        "eta": None,
        "expires": None,
        "queue": spec.queue,
        "exchange": "",
        "routing_key": spec.queue,
        "timestamp": time.time(),
        "type": "task-sent",
    }


def event_batch_message(events: list[dict[str, Any]], clock: int) -> str:
    """One event message holding many events, as Celery's grouped dispatcher sends.

    Event receivers (Flower, `celery events`) accept a list body since Celery 4.
    """
    hostname = anon_nodename()
    # One Lamport clock value for the batch: the events were sent at one moment.
    fields = {
        "hostname": hostname,
        "utcoffset": utcoffset(),
        "pid": os.getpid(),
        "clock": clock,
    }
    stamped = [fields | event for event in events]
    envelope = {
        "body": base64.b64encode(json.dumps(stamped).encode()).decode("ascii"),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {"hostname": hostname},
        "properties": {
            "delivery_mode": 1,
            "delivery_info": {"exchange": "celeryev", "routing_key": SENT_EVENT_KEY},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return json.dumps(envelope)
