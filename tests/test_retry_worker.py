"""Retries on a real worker: exact attempts and waits, what retries and what not."""

from __future__ import annotations

import logging
import random
import time
import uuid
from typing import Any

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError

from project import retry
from project.deadletter import Reason, dead_letter_store
from project.errors import PayloadInvalid, PermanentError, TransientError
from project.tasks.email import EMAIL_RETRY, EmailJob, send_email
from tests.support.fault_tasks import FAST, Flaky, flaky, runs
from tests.support.smtp import SmtpSink


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> int:
    """Seed the worker's random source (the thread worker shares this process)."""
    seed = random.randrange(1 << 30)
    monkeypatch.setattr(retry, "RANDOM", random.Random(seed))
    return seed


def failure_lines(caplog: pytest.LogCaptureFixture, task_id: str) -> list[Any]:
    return [
        record
        for record in caplog.records
        if record.name == "project.typed.failure" and task_id in record.getMessage()
    ]


def test_a_transient_failure_retries_exactly_as_the_policy_says(
    worker: Any, seeded: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a task that always fails with a transient error
    name = key()
    seed = seeded
    expected = random.Random(seed)
    waits = [FAST.delay_s(n, expected) for n in (1, 2)]

    # When it runs
    handle = flaky.delay(Flaky(key=name, failures=99))
    with pytest.raises(TransientError, match="attempt 3 fails on purpose"):
        handle.get(timeout=20)

    # Then it ran three times, waited the seeded delays, and logged each retry
    assert runs(name) == 3, f"seed {seed}"
    lines = failure_lines(caplog, handle.id)
    retried = [line for line in lines if line.levelno == logging.WARNING]
    failed = [line for line in lines if line.levelno == logging.ERROR]
    assert [line.attempt for line in retried] == [1, 2]
    assert [line.attempts for line in retried] == [3, 3]
    assert [line.delay_s for line in retried] == [round(wait, 3) for wait in waits]
    assert "retried faults.flaky[" in retried[0].getMessage()
    assert "attempt=1 of 3 delay=" in retried[0].getMessage()
    # ...and exactly one ERROR line for the final failure, Celery's demoted to INFO
    assert len(failed) == 1
    assert "attempt=3 of 3" in failed[0].getMessage()
    assert "reason=retries-exhausted" in failed[0].getMessage()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r for r in errors if handle.id in r.getMessage()] == failed


def test_a_task_that_recovers_succeeds_on_a_later_attempt(worker: Any) -> None:
    name = key()
    handle = flaky.delay(Flaky(key=name, failures=2))
    result = handle.get(timeout=20)
    assert result.attempts == 3
    assert runs(name) == 3
    assert dead_letter_store().get(handle.id) is None


def test_an_exception_the_task_declares_is_retried(worker: Any) -> None:
    name = key()
    result = flaky.delay(Flaky(key=name, failures=1, failure="declared")).get(20)
    assert result.attempts == 2


@pytest.mark.parametrize(
    ("failure", "error"),
    [("permanent", PermanentError), ("bug", ZeroDivisionError)],
)
def test_a_permanent_failure_is_never_retried(
    worker: Any, failure: Any, error: type[Exception]
) -> None:
    name = key()
    handle = flaky.delay(Flaky(key=name, failures=1, failure=failure))
    with pytest.raises(error):
        handle.get(timeout=20)
    assert runs(name) == 1
    letter = dead_letter_store().get(handle.id)
    assert letter is not None
    assert letter.reason is Reason.PERMANENT_ERROR
    assert letter.attempts == 1


def test_an_invalid_payload_on_the_worker_is_not_retried(worker: Any) -> None:
    # A producer outside the typed layer sends a payload that misses a field.
    async_result = flaky.celery_task.apply_async(args=({"key": "x"},))
    with pytest.raises(PayloadInvalid) as caught:
        flaky.result(async_result.id).get(timeout=20)
    assert caught.value.errors[0]["loc"] == ["failures"]
    letter = dead_letter_store().get(async_result.id)
    assert letter is not None
    assert letter.reason is Reason.INVALID_PAYLOAD
    assert letter.attempts == 1
    assert letter.payload == {"key": "x"}


def test_smtp_4xx_is_retried_three_times_then_dead_lettered(
    worker: Any, smtp: SmtpSink
) -> None:
    # Given a recipient that the SMTP server defers (451) every time
    recipient = f"busy.{key()[:8]}@example.com"
    smtp.refuse_rcpt[recipient] = 451
    job = EmailJob(user_id="u-busy", email=recipient, template="welcome")

    # When the e-mail is sent, it is tried three times over about 2 s + 4 s
    handle = send_email.delay(job)
    with pytest.raises(Exception, match="451"):
        handle.get(timeout=30)

    # Then it is stored as a dead letter with every attempt counted
    letter = dead_letter_store().get(handle.id)
    assert letter is not None
    assert letter.reason is Reason.RETRIES_EXHAUSTED
    assert letter.attempts == EMAIL_RETRY.attempts == 3
    assert letter.error_type == "SMTPRecipientsRefused"
    spent = (letter.last_failed_at - letter.first_failed_at).total_seconds()
    assert 1.5 + 3.0 <= spent < 2.5 + 5.0 + 3.0
    assert smtp.to(recipient) == []


def test_smtp_5xx_fails_at_once(worker: Any, smtp: SmtpSink) -> None:
    recipient = f"gone.{key()[:8]}@example.com"
    smtp.refuse_rcpt[recipient] = 550
    handle = send_email.delay(
        EmailJob(user_id="u-gone", email=recipient, template="welcome")
    )
    with pytest.raises(Exception, match="550"):
        handle.get(timeout=20)
    letter = dead_letter_store().get(handle.id)
    assert letter is not None
    assert letter.reason is Reason.PERMANENT_ERROR
    assert letter.attempts == 1


def test_a_retry_waits_before_it_runs(worker: Any) -> None:
    # The first retry of FAST waits at least 0.15 s: no result before that.
    handle = flaky.delay(Flaky(key=key(), failures=1))
    with pytest.raises(CeleryTimeoutError):
        handle.get(timeout=0.1)
    assert handle.get(timeout=20).attempts == 2


def test_a_task_delivered_again_does_not_send_its_email_twice(
    worker: Any, smtp: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an e-mail task that ran and sent its e-mail
    caplog.set_level(logging.INFO, logger="project.tasks.email")
    recipient = f"once.{key()[:8]}@example.com"
    job = EmailJob(user_id="u-once", email=recipient, template="welcome")
    task_id = str(uuid.uuid4())
    first = send_email.apply_async(job, task_id=task_id).get(timeout=20)

    # When the same task (same id) is delivered again, as after a crash
    send_email.apply_async(job, task_id=task_id)
    skipped = f"of task {task_id} again: it was sent before"
    deadline = time.monotonic() + 20
    while not any(skipped in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the second delivery did not run"
        time.sleep(0.05)

    # Then it returns the first result and the e-mail went out once
    assert send_email.result(task_id).get(timeout=20) == first
    assert len(smtp.to(recipient)) == 1
