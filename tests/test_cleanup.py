"""`maintenance.cleanup` on a real worker: old files, buckets and dead letters go."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from project import stats
from project.settings import get_settings
from project.tasks.maintenance import CleanupJob, cleanup


@pytest.fixture
def reports_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(get_settings(), "reports_dir", tmp_path)
    monkeypatch.setattr(get_settings(), "report_retention_days", 30)
    monkeypatch.setattr(get_settings(), "stats_retention_days", 90)
    return tmp_path


def _dead_letter(task_id: str, failed_at: datetime) -> Any:
    from project.deadletter.model import DeadLetter, Reason

    return DeadLetter(
        id=task_id,
        task="demo.work",
        payload={},
        reason=Reason.PERMANENT_ERROR,
        error_type="PermanentError",
        error_message="test",
        attempts=1,
        first_failed_at=failed_at,
        last_failed_at=failed_at,
    )


def test_cleanup_removes_what_is_old_and_a_second_run_removes_nothing(
    worker: Any, reports_dir: Path
) -> None:
    store_module = pytest.importorskip("project.deadletter.store")
    today = datetime.now(UTC).date()
    old_day = today - timedelta(days=120)
    kept_day = today - timedelta(days=10)
    # Given old and recent report files, an unrelated file, old and recent buckets
    for day in (date(2020, 1, 1), today - timedelta(days=31), kept_day):
        for suffix in ("json", "html"):
            (reports_dir / f"{day.isoformat()}.{suffix}").write_text("{}")
    (reports_dir / "notes.txt").write_text("not a report")
    at = datetime.combine(old_day, datetime.min.time(), UTC)
    stats.record_outcome("demo.work", "succeeded", runtime_s=0.1, at=at)
    stats.record_outcome("demo.work", "succeeded", at=at + timedelta(days=110))
    # And an old and a recent dead letter
    store = store_module.dead_letter_store()
    now = datetime.now(UTC)
    store.add(_dead_letter("cleanup-old", now - timedelta(days=45)))
    store.add(_dead_letter("cleanup-new", now - timedelta(days=1)))
    # When cleanup runs twice
    first = cleanup.delay(CleanupJob()).get(timeout=60)
    second = cleanup.delay(CleanupJob()).get(timeout=60)
    # Then the first run removed the old ones, by kind, and the second nothing
    assert first.report_files == 4
    assert first.stats_days >= 1
    assert first.dead_letters is not None
    assert first.dead_letters >= 1
    assert (second.report_files, second.stats_days, second.dead_letters) == (0, 0, 0)
    assert sorted(path.name for path in reports_dir.iterdir()) == [
        f"{kept_day.isoformat()}.html",
        f"{kept_day.isoformat()}.json",
        "notes.txt",
    ]
    assert old_day not in stats.stored_days()
    assert not stats.client().exists(stats.counts_key(old_day))
    assert not stats.client().exists(stats.runtime_key(old_day, "demo.work"))
    assert (at + timedelta(days=110)).date() in stats.stored_days()
    assert store.get("cleanup-old") is None
    assert store.get("cleanup-new") is not None
