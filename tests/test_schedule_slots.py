"""One fire per slot on a real worker; a failed scheduled run is logged and counted."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from project import stats
from project.scheduling.fire import fire
from project.scheduling.slots import CLAIM_PREFIX, slot_key


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError(f"condition not met within {timeout_s} s")


def successes(task_name: str) -> int:
    counts = stats.read_day(datetime.now(UTC).date()).counts
    return counts.get(task_name, {}).get("succeeded", 0)


def test_a_second_delivery_of_a_slot_is_skipped_and_logged(
    app: Any, worker: Any, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="project.scheduling.slots")
    slot = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    before = successes("maintenance.cleanup")
    # Given two beats that both fired the cleanup slot of 1 December
    common: dict[str, Any] = {
        "entry_name": "cleanup-test",
        "task_name": "maintenance.cleanup",
        "args": [{}],
        "options": {"queue": "maintenance"},
        "slot": slot,
    }
    first = fire(app, **common)
    second = fire(app, **common)
    # When the worker receives both
    first.get(timeout=30)
    wait_until(lambda: "already delivered once" in caplog.text)
    # Then the task ran once: the other delivery was skipped, and logged
    assert successes("maintenance.cleanup") == before + 1
    raw = stats.client().get(CLAIM_PREFIX + slot_key("cleanup-test", slot))
    assert isinstance(raw, bytes)
    claim = raw.decode()
    assert claim in {first.id, second.id}
    skipped = second.id if claim == first.id else first.id
    assert skipped in caplog.text
    assert "cleanup-test@2026-12-01T02:00:00Z" in caplog.text


def test_a_failed_scheduled_run_is_logged_at_error_and_counted(
    app: Any, worker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="project.stats")
    today = datetime.now(UTC).date()
    before = stats.read_day(today).schedule_failures.get("broken-entry", 0)
    # Given a scheduled fire whose payload the task refuses (a permanent failure)
    result = fire(
        app,
        entry_name="broken-entry",
        task_name="maintenance.cleanup",
        args=[{"unexpected": 1}],
        options={"queue": "maintenance"},
        slot=datetime.now(UTC).replace(microsecond=0),
    )
    # When the worker runs it
    with pytest.raises(Exception, match="unexpected"):
        result.get(timeout=30)
    # Then an ERROR names the entry and the task id, and the failure is counted
    wait_until(lambda: result.id in caplog.text)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any(
        "broken-entry" in r.getMessage() and result.id in r.getMessage() for r in errors
    )
    wait_until(
        lambda: (
            stats.read_day(today).schedule_failures.get("broken-entry") == before + 1
        )
    )
    assert stats.read_day(today).counts["maintenance.cleanup"]["failed"] >= 1
