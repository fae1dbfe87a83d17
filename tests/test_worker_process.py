"""`celery -A project worker`, as users start it, consumes every queue without -Q."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from project.queues import QUEUE_NAMES
from project.tasks.accounts import AccountEvent, Signup, handle_account_event
from project.tasks.email import send_email
from tests.support.smtp import SmtpSink
from tests.support.workers import WorkerProcess


@pytest.fixture(scope="module")
def worker_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    process = WorkerProcess({}, log, "--concurrency", "2").start()
    yield process
    assert process.stop() == 0


def test_the_worker_consumes_every_declared_queue(
    worker_process: WorkerProcess,
) -> None:
    log = worker_process.log()

    for name in QUEUE_NAMES:
        assert re.search(rf"\.> {name} +exchange=", log), f"no queue {name} in:\n{log}"
    for task in ("email.send", "accounts.handle_event"):
        assert f". {task}" in log


def test_a_worker_process_delivers_an_event_and_its_email(
    worker_process: WorkerProcess, smtp: SmtpSink
) -> None:
    recipient = f"process.{uuid.uuid4().hex[:8]}@example.com"
    event = AccountEvent(Signup(type="signup", user_id="u-9", email=recipient))

    handled = handle_account_event.delay(event).get(timeout=60)
    sent = send_email.result(handled.email_task_id).get(timeout=60)

    [received] = smtp.wait_for(recipient)
    assert received.message["Message-ID"] == sent.message_id


def test_the_log_masks_the_address(
    worker_process: WorkerProcess, tmp_path: Path
) -> None:
    recipient = f"secret.person.{uuid.uuid4().hex[:8]}@example.com"
    handled = handle_account_event.delay(
        AccountEvent(Signup(type="signup", user_id="u-10", email=recipient))
    ).get(timeout=60)
    send_email.result(handled.email_task_id).get(timeout=60)

    log = worker_process.log()
    assert handled.email_task_id in log
    assert recipient not in log
    assert "s***@e***.com" in log
