"""Logs: configured at start-up only, one line per task event, nothing secret."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from project.logs import Redactor, configure_logging, secrets_of
from project.settings import load_settings
from tests.support.smtp import SmtpSink
from tests.support.workers import ROOT, WorkerProcess

SMTP_SECRET = "smtp-Pa55-7f3e"
FLOWER_SECRET = "flower-Pa55-91ac"
BROKER_SECRET = "broker-Pa55-c0de"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_importing_the_app_configures_no_logging() -> None:
    code = (
        "import logging, project; "
        "print(len(logging.getLogger().handlers), logging.getLogger().level)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["0", str(logging.WARNING)]


def test_redactor_masks_addresses_url_credentials_and_secrets() -> None:
    redact = Redactor([SMTP_SECRET, 'quo"te-secret'])
    line = redact(
        f"to New.User@Example.com via amqp://guest:{BROKER_SECRET}@rabbit:5672//"
        f" and redis://:{BROKER_SECRET}@cache:6379/0 smtp={SMTP_SECRET}"
        ' json="quo\\"te-secret"'
    )
    assert "New.User@Example.com" not in line
    assert "N***@E***.com" in line
    assert BROKER_SECRET not in line
    assert "amqp://guest:***@rabbit:5672//" in line
    assert "redis://:***@cache:6379/0" in line
    assert SMTP_SECRET not in line
    assert "te-secret" not in line


def test_secrets_of_reads_every_password_setting() -> None:
    settings = load_settings(
        broker_url=f"amqp://app:{BROKER_SECRET}@rabbit//",
        smtp_password=SMTP_SECRET,
        flower_basic_auth=f"ops:{FLOWER_SECRET},viewer:other-pass",
    )
    assert set(secrets_of(settings)) >= {
        BROKER_SECRET,
        SMTP_SECRET,
        FLOWER_SECRET,
        "other-pass",
    }


@pytest.mark.usefixtures("restore_logging")
def test_text_lines_hide_secrets_from_any_logger() -> None:
    settings = load_settings(smtp_password=SMTP_SECRET)
    stream = io.StringIO()
    configure_logging(settings, stream=stream)

    logging.getLogger("kombu.connection").error(
        "cannot connect to redis://user:%s@10.0.0.9:6379/0 for %s (password %s)",
        BROKER_SECRET,
        "someone@example.org",
        SMTP_SECRET,
    )

    text = stream.getvalue()
    assert "kombu.connection: cannot connect to redis://user:***@" in text
    assert BROKER_SECRET not in text
    assert SMTP_SECRET not in text
    assert "someone@example.org" not in text
    assert "s***@e***.org" in text


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_the_task_fields() -> None:
    settings = load_settings(log_format="json")
    stream = io.StringIO()
    configure_logging(settings, stream=stream)

    logging.getLogger("project.task_events").info(
        "started %s", "x", extra={"task_id": "abc", "attempt": 2}
    )

    record = json.loads(stream.getvalue().strip())
    assert record["logger"] == "project.task_events"
    assert record["level"] == "INFO"
    assert record["message"] == "started x"
    assert (record["task_id"], record["attempt"]) == ("abc", 2)


def test_configuring_twice_keeps_one_handler_of_ours(restore_logging: None) -> None:
    settings = load_settings()
    before = len(logging.getLogger().handlers)
    configure_logging(settings, stream=io.StringIO())
    configure_logging(settings, stream=io.StringIO())
    assert len(logging.getLogger().handlers) == before + 1


def _worker_log(
    tmp_path: Path, smtp: SmtpSink, log_format: str, address: str
) -> tuple[str, str]:
    """Run one e-mail task on a worker process; return its log and the task id."""
    from project.tasks.email import EmailJob, send_email

    env = {
        "LOG_FORMAT": log_format,
        "SMTP_PASSWORD": SMTP_SECRET,
        "FLOWER_BASIC_AUTH": f"ops:{FLOWER_SECRET}",
    }
    worker = WorkerProcess(env, tmp_path / "worker.log", "-P", "threads", "-c", "2")
    worker.start()
    try:
        handle = send_email.delay(
            EmailJob(user_id="u-log", email=address, template="welcome")
        )
        handle.get(timeout=60)
        smtp.wait_for(address)
    finally:
        assert worker.stop() == 0
    return worker.log(), handle.id


def _assert_nothing_secret(log: str, address: str) -> None:
    assert address not in log
    assert address.split("@")[0] not in log
    assert SMTP_SECRET not in log
    assert FLOWER_SECRET not in log


@pytest.mark.slow
def test_worker_writes_one_json_line_per_task_event(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    address = f"json.{uuid.uuid4().hex[:8]}@example.com"

    log, task_id = _worker_log(tmp_path, smtp, "json", address)

    records: list[dict[str, Any]] = [
        json.loads(line) for line in log.splitlines() if line.startswith("{")
    ]
    events = [r for r in records if r.get("task_id") == task_id and "event" in r]
    assert [r["event"] for r in events] == ["received", "started", "succeeded"]
    assert all(r["task_name"] == "email.send" for r in events)
    assert all(r["attempt"] == 1 for r in events)
    assert events[-1]["runtime_s"] > 0
    assert any(r["message"].startswith("Sending welcome e-mail") for r in records)
    _assert_nothing_secret(log, address)


@pytest.mark.slow
def test_worker_writes_text_lines_by_default(tmp_path: Path, smtp: SmtpSink) -> None:
    address = f"text.{uuid.uuid4().hex[:8]}@example.com"

    log, task_id = _worker_log(tmp_path, smtp, "text", address)

    ours = [line for line in log.splitlines() if task_id in line]
    assert len(ours) == 3, ours
    assert f"project.task_events: received email.send[{task_id}] attempt=1" in ours[0]
    assert f"started email.send[{task_id}] attempt=1" in ours[1]
    assert f"succeeded email.send[{task_id}] attempt=1 runtime=" in ours[2]
    _assert_nothing_secret(log, address)
