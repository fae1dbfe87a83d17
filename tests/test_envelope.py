"""A producer that knows only `schemas/ENVELOPE.md` and the schema files.

Nothing here imports the typed layer or a Celery producer: the message is built
with `json`, `base64` and `uuid` as the document describes, pushed with a plain
Redis client, and the result is read from the key the document names. A stock
worker (the `worker` fixture) runs it.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import redis

from tests.support.smtp import SmtpSink

CONTRACTS = Path(__file__).resolve().parents[1] / "schemas"


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def contract(task: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The task's queue, payload schema and result schema, from the files only."""
    entry = json.loads((CONTRACTS / "index.json").read_text())["tasks"][task]
    payload = json.loads((CONTRACTS / entry["payload"]).read_text())
    result = json.loads((CONTRACTS / entry["result"]).read_text())
    return entry["queue"], payload, result


def envelope(task: str, queue: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    task_id = str(uuid.uuid4())
    workflow = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    body = json.dumps([args, kwargs, workflow]).encode("utf-8")
    message = {
        "body": base64.b64encode(body).decode("ascii"),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
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
            "origin": "test-envelope@elsewhere",
            "sent_at": time.time(),
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
    return task_id, json.dumps(message)


def wait_for_outcome(broker: redis.Redis, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        raw = broker.get(f"celery-task-meta-{task_id}")
        if raw is not None:
            stored: dict[str, Any] = json.loads(raw)
            if stored["status"] in ("SUCCESS", "FAILURE"):
                return stored
        time.sleep(0.1)
    raise TimeoutError(f"task {task_id} did not finish within 60 s")


def test_a_hand_built_message_runs_and_its_result_matches_the_schema(
    worker: Any, smtp: SmtpSink, broker: redis.Redis
) -> None:
    # Given a payload checked against the published schema
    queue, payload_schema, result_schema = contract("email.send")
    payload = {"user_id": "7", "email": "raw@example.com", "template": "welcome"}
    jsonschema.validate(payload, payload_schema)

    # When it is pushed as the document describes
    task_id, message = envelope("email.send", queue, [payload], {})
    broker.lpush(queue, message)

    # Then the worker sends the e-mail and stores a result valid under the schema
    outcome = wait_for_outcome(broker, task_id)
    assert outcome["status"] == "SUCCESS", outcome
    jsonschema.validate(outcome["result"], result_schema)
    assert outcome["result"]["message_id"].startswith(f"<{task_id}@")
    smtp.wait_for("raw@example.com")


def test_the_payload_may_travel_as_a_keyword(
    worker: Any, smtp: SmtpSink, broker: redis.Redis
) -> None:
    queue, _, _ = contract("email.send")
    payload = {"user_id": "8", "email": "keyword@example.com", "template": "welcome"}

    task_id, message = envelope("email.send", queue, [], {"payload": payload})
    broker.lpush(queue, message)

    assert wait_for_outcome(broker, task_id)["status"] == "SUCCESS"
    smtp.wait_for("keyword@example.com")


def test_a_refused_payload_fails_with_field_errors(
    worker: Any, broker: redis.Redis
) -> None:
    # Given a payload the schema rejects, sent without checking it
    queue, payload_schema, _ = contract("email.send")
    payload = {"user_id": "", "email": "bad@example.com", "template": "welcome"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, payload_schema)

    task_id, message = envelope("email.send", queue, [payload], {})
    broker.lpush(queue, message)

    # Then the stored failure carries the task name and the field errors
    outcome = wait_for_outcome(broker, task_id)
    assert outcome["status"] == "FAILURE"
    assert outcome["result"]["exc_type"] == "PayloadInvalid"
    task_name, errors = outcome["result"]["exc_message"]
    assert task_name == "email.send"
    assert [error["loc"] for error in errors] == [["user_id"]]
