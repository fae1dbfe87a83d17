"""`CronSchedule`: a Celery schedule that reads its cron in its own time zone.

Celery's `crontab` (and RedBeat, which stores it) uses one zone for the whole
app and is wrong across daylight-saving changes (FIELD-NOTES.md). This class
answers beat's two questions, "is it due?" and "when next?", from the zoned
cron arithmetic of `project.scheduling.cron`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from celery.schedules import BaseSchedule, schedstate

from project.scheduling import clock
from project.scheduling.cron import ZonedCron, as_utc


class CronSchedule(BaseSchedule):  # type: ignore[misc]
    """Fires at the instants of `cron` read in the IANA zone `timezone`."""

    def __init__(self, cron: str, timezone: str = "UTC", app: Any = None) -> None:
        super().__init__(nowfun=clock.now, app=app)
        self.zoned = ZonedCron(cron, timezone)

    @property
    def cron(self) -> str:
        return self.zoned.expression

    @property
    def timezone(self) -> str:
        return self.zoned.zone_name

    def now(self) -> datetime:
        return clock.now()

    def next_after(self, moment: datetime) -> datetime:
        return self.zoned.next_after(moment)

    def slot_at_or_before(self, moment: datetime) -> datetime:
        """The latest slot (scheduled instant) that is not after `moment`."""
        return self.zoned.previous_at_or_before(moment)

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        """Time from now until the first slot after `last_run_at` (may be < 0)."""
        return self.next_after(as_utc(last_run_at)) - self.now()

    def is_due(self, last_run_at: datetime) -> schedstate:
        """Due when a slot passed since the last run; then the wait to the next."""
        now = self.now()
        due_at = self.next_after(as_utc(last_run_at))
        if due_at <= now:
            following = self.next_after(now)
            return schedstate(True, (following - now).total_seconds())
        return schedstate(False, (due_at - now).total_seconds())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CronSchedule):
            return NotImplemented
        return (self.cron, self.timezone) == (other.cron, other.timezone)

    def __hash__(self) -> int:
        return hash((self.cron, self.timezone))

    def __repr__(self) -> str:
        return f"<CronSchedule {self.cron!r} in {self.timezone}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.cron, self.timezone))
