"""`maintenance.cleanup`: remove what outlived its retention. Safe to run twice."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from project import stats
from project.queues import MAINTENANCE
from project.settings import Settings, get_settings
from project.typed import typed_task

logger = logging.getLogger(__name__)

# Only files the report task writes; anything else in the folder is left alone.
REPORT_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(json|html)$")


class CleanupJob(BaseModel):
    """No options: the retention settings say what is old."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CleanupResult(BaseModel):
    """How many of each kind were removed."""

    report_files: int
    stats_days: int
    # None when this deployment has no dead-letter store.
    dead_letters: int | None


@typed_task(
    name="maintenance.cleanup",
    queue=MAINTENANCE.name,
    soft_time_limit_s=240,
    time_limit_s=300,
)
def cleanup(job: CleanupJob) -> CleanupResult:
    """Remove report files, statistics and dead letters older than their retention."""
    settings = get_settings()
    today = datetime.now(UTC).date()
    result = CleanupResult(
        report_files=remove_old_reports(
            settings.reports_dir, today - timedelta(days=settings.report_retention_days)
        ),
        stats_days=remove_old_stats(
            today - timedelta(days=settings.stats_retention_days)
        ),
        dead_letters=purge_dead_letters(settings),
    )
    logger.info("Cleanup removed %s", result.model_dump())
    return result


def remove_old_reports(folder: Path, keep_from: date) -> int:
    """Delete report files of days before `keep_from`."""
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        match = REPORT_FILE.match(path.name)
        if match and date.fromisoformat(match.group(1)) < keep_from:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def remove_old_stats(keep_from: date) -> int:
    """Delete the statistics buckets of days before `keep_from`."""
    old = [day for day in stats.stored_days() if day < keep_from]
    for day in old:
        stats.delete_day(day)
    return len(old)


def purge_dead_letters(settings: Settings) -> int | None:
    """Purge dead letters past DEAD_LETTER_RETENTION_DAYS (issue 4's store)."""
    try:
        from project.deadletter.store import dead_letter_store
    except ImportError:
        return None
    retention = timedelta(days=settings.dead_letter_retention_days)
    return dead_letter_store(settings).purge(older_than=retention)
