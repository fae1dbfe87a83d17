"""The cron schedule that beat runs: one typed entry per scheduled job.

Read by the beat scheduler at start-up (`project.scheduling.redbeat`), by
`project schedules` and by the tests. Every entry is checked as it is built: a
bad cron, a payload of the wrong type, an unknown zone or a name used twice
stops the import with a message naming the entry. See docs/SCHEDULES.md.
"""

from __future__ import annotations

from project.scheduling.entries import ScheduleEntry, declare_schedule
from project.tasks.maintenance import CleanupJob, cleanup
from project.tasks.reports import DailyReportJob, daily_report

SCHEDULE = declare_schedule(
    [
        # Yesterday's outcomes, just after the UTC day closes.
        ScheduleEntry(
            name="daily-report",
            cron="0 0 * * *",
            task=daily_report,
            payload=DailyReportJob(),
            timezone="UTC",
            expires_s=6 * 3600,
        ),
        # After the report, so the report never misses a bucket cleanup removed.
        ScheduleEntry(
            name="cleanup",
            cron="0 2 * * *",
            task=cleanup,
            payload=CleanupJob(),
            timezone="UTC",
            expires_s=6 * 3600,
        ),
    ]
)
