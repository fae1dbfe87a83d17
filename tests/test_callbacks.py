"""Typed success and error callbacks: checked types, and each runs exactly once."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from project.errors import CallbackMismatch, TransientError
from project.tasks.email import send_email
from project.typed.failure import FailureRecord
from tests.support.fault_tasks import (
    Flaky,
    FlakyDone,
    collect_done,
    collect_failure,
    collected,
    flaky,
)


def key() -> str:
    return uuid.uuid4().hex


def wait_collected(name: str, count: int, timeout_s: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        items = collected(name)
        if len(items) >= count:
            return items
        time.sleep(0.05)
    raise TimeoutError(f"{len(collected(name))} of {count} callbacks for {name}")


def settle() -> None:
    """Leave time for a second, wrong callback to show up."""
    time.sleep(1.5)


def test_the_success_callback_gets_the_result_model(worker: Any) -> None:
    # Given a task that succeeds on its second attempt, with both callbacks
    name = key()
    handle = flaky.apply_async(
        Flaky(key=name, failures=1),
        on_success=collect_done,
        on_error=collect_failure,
    )

    # When it is done
    assert handle.get(timeout=20).attempts == 2

    # Then the success callback ran once with the result, the error callback never
    [item] = wait_collected(name, 1)
    assert FlakyDone.model_validate_json(item) == FlakyDone(key=name, attempts=2)
    settle()
    assert collected(name) == [item]


def test_the_error_callback_runs_once_after_the_last_attempt(worker: Any) -> None:
    name = key()
    handle = flaky.apply_async(
        Flaky(key=name, failures=99), on_success=collect_done, on_error=collect_failure
    )
    with pytest.raises(TransientError):
        handle.get(timeout=20)

    [item] = wait_collected(name, 1)
    record = FailureRecord.model_validate_json(item)
    assert record == FailureRecord(
        task_name="faults.flaky",
        task_id=handle.id,
        payload={"key": name, "failures": 99, "failure": "transient"},
        error_type="TransientError",
        error_message="attempt 3 fails on purpose",
        attempts=3,
        reason="retries-exhausted",
    )
    settle()
    assert collected(name) == [item]


def test_a_permanent_failure_calls_the_error_callback_after_one_attempt(
    worker: Any,
) -> None:
    name = key()
    handle = flaky.apply_async(
        Flaky(key=name, failures=1, failure="permanent"), on_error=collect_failure
    )
    with pytest.raises(Exception, match="attempt 1 fails on purpose"):
        handle.get(timeout=20)
    [item] = wait_collected(name, 1)
    assert json.loads(item)["attempts"] == 1
    assert json.loads(item)["reason"] == "permanent-error"


def test_a_callback_of_the_wrong_type_is_refused_before_publishing() -> None:
    # mypy refuses both calls (the ignores below fail `make typecheck` if it ever
    # stops), and so does the call itself at run time.
    payload = Flaky(key=key(), failures=0)
    with pytest.raises(CallbackMismatch, match=r"faults\.collect_failure takes"):
        flaky.apply_async(payload, on_success=collect_failure)  # type: ignore[arg-type]
    with pytest.raises(CallbackMismatch, match="an error callback takes FailureRecord"):
        flaky.apply_async(payload, on_error=collect_done)  # type: ignore[arg-type]
    with pytest.raises(CallbackMismatch, match="must be a typed task"):
        flaky.apply_async(payload, on_success=print)  # type: ignore[arg-type]


def test_the_success_callback_must_take_the_result_model() -> None:
    # email.send returns EmailResult, which collect_done (FlakyDone) cannot take.
    from project.tasks.email import EmailJob

    job = EmailJob(user_id="u", email="a@example.com", template="welcome")
    with pytest.raises(CallbackMismatch, match="gives EmailResult"):
        send_email.apply_async(job, on_success=collect_done)  # type: ignore[arg-type]
