"""`project send` and `project tasks`, run as the console script a user types."""

from __future__ import annotations

import json
import uuid
from typing import Any

import redis

from tests.support.cli import project
from tests.support.smtp import SmtpSink


def test_tasks_lists_names_queues_and_models() -> None:
    done = project("tasks", "--json")

    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["email.send"]["queue"] == "email"
    assert rows["email.send"]["payload"] == "EmailJob"
    assert rows["email.send"]["result"] == "EmailResult"
    assert rows["accounts.handle_event"]["payload"] == "AccountEvent"


def test_send_with_wait_prints_the_result(worker: Any, smtp: SmtpSink) -> None:
    local = f"New.User.{uuid.uuid4().hex[:6]}"
    payload = {
        "user_id": "u-1",
        "email": f" {local}@Example.COM ",
        "template": "welcome",
    }

    done = project("send", "email.send", json.dumps(payload), "--wait")

    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["status"] == "SUCCESS"
    assert printed["result"]["message_id"] == f"<{printed['task_id']}@example.com>"
    assert smtp.wait_for(f"{local}@example.com")


def test_invalid_payload_exits_2_with_field_errors_and_publishes_nothing(
    redis_url: str,
) -> None:
    client = redis.Redis.from_url(redis_url)
    before = client.info("commandstats").get("cmdstat_lpush", {}).get("calls", 0)

    done = project(
        "send", "email.send", '{"user_id": "u", "email": "x", "template": 1}'
    )

    assert done.returncode == 2
    assert "email:" in done.stderr
    assert "template:" in done.stderr
    after = client.info("commandstats").get("cmdstat_lpush", {}).get("calls", 0)
    assert after == before
    client.close()


def test_invalid_json_exits_2() -> None:
    done = project("send", "email.send", "{not json")

    assert done.returncode == 2
    assert "Invalid JSON" in done.stderr


def test_an_unknown_task_exits_2_naming_the_known_ones() -> None:
    done = project("send", "email.sned", "{}")

    assert done.returncode == 2
    assert "no task is called 'email.sned'" in done.stderr
    assert "email.send" in done.stderr
