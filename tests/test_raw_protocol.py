"""Messages from producers that are not Python: a hand-built protocol-2 JSON message.

The worker validates what arrives whoever sent it: a valid message runs, an invalid
one fails for good, at once, with its field errors stored for the caller.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from project.errors import PayloadInvalid
from project.tasks.email import send_email
from tests.support.raw_message import publish_raw, stored_result
from tests.support.smtp import SmtpSink


def wait_for_record(redis_url: str, task_id: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = stored_result(redis_url, task_id)
        if record and record["status"] in {"SUCCESS", "FAILURE"}:
            return record
        time.sleep(0.05)
    raise TimeoutError(f"no final state for {task_id}")


def test_a_valid_raw_message_runs(worker: Any, smtp: SmtpSink, redis_url: str) -> None:
    recipient = f"raw.{uuid.uuid4().hex[:8]}@example.com"
    payload = {"user_id": "u-raw", "email": f" {recipient} ", "template": "welcome"}

    task_id = publish_raw(redis_url, "email.send", "email", [payload])

    record = wait_for_record(redis_url, task_id)
    assert record["status"] == "SUCCESS"
    assert record["result"]["message_id"] == f"<{task_id}@example.com>"
    assert smtp.wait_for(recipient)[0].message["Subject"] == "Welcome to Example App"
    assert (
        send_email.result(task_id).get(timeout=5).message_id.startswith(f"<{task_id}")
    )


def test_a_keyword_payload_from_another_producer_runs(
    worker: Any, smtp: SmtpSink, redis_url: str
) -> None:
    recipient = f"raw.{uuid.uuid4().hex[:8]}@example.com"
    payload = {"user_id": "u-raw", "email": recipient, "template": "welcome"}

    task_id = publish_raw(redis_url, "email.send", "email", [], {"payload": payload})

    assert wait_for_record(redis_url, task_id)["status"] == "SUCCESS"
    assert smtp.wait_for(recipient)


def test_an_invalid_raw_message_fails_for_good_with_field_errors(
    worker: Any, redis_url: str
) -> None:
    payload = {"user_id": "", "email": "nobody", "template": "welcome", "extra": 1}

    task_id = publish_raw(redis_url, "email.send", "email", [payload])

    record = wait_for_record(redis_url, task_id)
    assert record["status"] == "FAILURE"
    assert record["result"]["exc_type"] == "PayloadInvalid"
    assert record["result"]["exc_module"] == "project.errors"
    with pytest.raises(PayloadInvalid) as raised:
        send_email.result(task_id).get(timeout=5)
    fields = sorted(error["loc"][0] for error in raised.value.errors)
    assert fields == ["email", "extra", "user_id"]
    # Failed at once: never retried.
    assert record.get("retries", 0) == 0


def test_a_message_with_two_arguments_is_refused(worker: Any, redis_url: str) -> None:
    task_id = publish_raw(redis_url, "email.send", "email", [{}, {}])

    with pytest.raises(PayloadInvalid, match="exactly one payload object"):
        send_email.result(task_id).get(timeout=30)
