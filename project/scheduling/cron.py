"""Cron in a time zone: the real instants at which a cron expression fires.

croniter does the calendar arithmetic on naive wall-clock times, which it gets
right; this module turns each wall-clock match into instants (UTC) with the
daylight-saving policy of docs/SCHEDULES.md:

- fixed hours (the hour field is not a wildcard) follow the wall clock: a local
  time that does not exist on the spring-forward day fires once, at the first
  valid instant after it (the moment of the change); a local time that occurs
  twice on the fall-back day fires once, at its first occurrence;
- a wildcard hour field (`*`, `*/2`) follows real time: every real instant whose
  local time matches fires, so an hourly entry fires 23 times on the
  spring-forward day and 25 times on the fall-back day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import (  # type: ignore[import-untyped]
    CroniterBadDateError,
    croniter,
)

# Wider than any daylight-saving shift in the tz database (2 h at most), so a
# search that starts this far back in wall-clock time cannot miss an instant.
SHIFT_MARGIN = timedelta(hours=3)
# Where the check that an expression fires at all starts; any date would do.
CHECK_FROM = datetime(2000, 1, 1)


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError with a hint when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'UTC',"
            " 'Europe/Berlin' or 'America/New_York'"
        ) from None


def check_cron(expression: str, *, allow_seconds: bool = False) -> str:
    """The expression, normalized; ValueError saying what is wrong with it."""
    fields = expression.split()
    allowed = (5, 6) if allow_seconds else (5,)
    if len(fields) not in allowed:
        raise ValueError(
            f"cron expression {expression!r} has {len(fields)} fields; expected 5"
            " (minute hour day-of-month month day-of-week), such as '0 2 * * *'"
        )
    normalized = " ".join(fields)
    if not croniter.is_valid(normalized):
        raise ValueError(
            f"cron expression {expression!r} is not valid; each field takes a"
            " number, a range (1-5), a list (1,3), a step (*/15) or *"
        )
    if not _fires(normalized):
        raise ValueError(
            f"cron expression {expression!r} never fires: no date has that day of"
            " the month in that month (such as 31 February); fix the day-of-month"
            " or month field"
        )
    return normalized


def _fires(expression: str) -> bool:
    """False for a valid expression no date matches, such as '0 0 31 2 *'."""
    try:
        croniter(expression, CHECK_FROM).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class ZonedCron:
    """The fire instants of one cron expression read in one time zone."""

    def __init__(self, expression: str, zone_name: str = "UTC") -> None:
        self.expression = check_cron(expression, allow_seconds=True)
        self.zone_name = zone_name
        self.zone = load_zone(zone_name)
        # A wildcard hour follows real time; fixed hours follow the wall clock.
        self.real_time = self.expression.split()[1].startswith("*")
        self.fixed_offset = _has_fixed_offset(self.zone)

    def next_after(self, moment: datetime) -> datetime:
        """The first fire instant strictly after `moment`, in UTC."""
        after = as_utc(moment)
        best: datetime | None = None
        start = self._wall(after) - self._margin(after)
        for wall in self._walk(start, forward=True):
            if best is not None and wall > self._wall(best) + self._margin(best):
                return best
            for instant in self._instants(wall):
                if instant > after and (best is None or instant < best):
                    best = instant
        raise AssertionError("unreachable: croniter iterates for ever")

    def previous_at_or_before(self, moment: datetime) -> datetime:
        """The last fire instant at or before `moment`, in UTC."""
        until = as_utc(moment)
        best: datetime | None = None
        start = self._wall(until) + self._margin(until) + timedelta(seconds=1)
        for wall in self._walk(start, forward=False):
            if best is not None and wall < self._wall(best) - self._margin(best):
                return best
            for instant in self._instants(wall):
                if instant <= until and (best is None or instant > best):
                    best = instant
        raise AssertionError("unreachable: croniter iterates for ever")

    def upcoming(self, moment: datetime, count: int) -> list[datetime]:
        """The next `count` fire instants after `moment`."""
        found: list[datetime] = []
        for _ in range(count):
            moment = self.next_after(moment)
            found.append(moment)
        return found

    # -- wall clock <-> instants -------------------------------------------------

    def _margin(self, instant: datetime) -> timedelta:
        """How far wall-clock order may disagree with real order near `instant`.

        Zero unless the offset changes within SHIFT_MARGIN of it: only then can a
        wall-clock time before `instant`'s stand for an instant after it.
        """
        if self.fixed_offset:
            return timedelta(0)
        before = (instant - SHIFT_MARGIN).astimezone(self.zone).utcoffset()
        after = (instant + SHIFT_MARGIN).astimezone(self.zone).utcoffset()
        return timedelta(0) if before == after else SHIFT_MARGIN

    def _wall(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone).replace(tzinfo=None)

    def _walk(self, start: datetime, *, forward: bool) -> Iterator[datetime]:
        cron = croniter(self.expression, start)
        step = cron.get_next if forward else cron.get_prev
        while True:
            yield step(datetime)

    def _instants(self, wall: datetime) -> list[datetime]:
        """The instants a matching wall-clock time stands for, by the policy."""
        first = wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        second = wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        if self._wall(first) == wall:
            if first == second or not self.real_time:
                return [first]
            return [first, second]
        # The wall-clock time falls in a spring-forward gap.
        if self.real_time:
            return []
        return [self._gap_end(min(first, second), max(first, second))]

    def _gap_end(self, low: datetime, high: datetime) -> datetime:
        """The instant of the change between `low` (before it) and `high` (after)."""
        target = high.astimezone(self.zone).utcoffset()
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            if middle.astimezone(self.zone).utcoffset() == target:
                high = middle
            else:
                low = middle
        return high.replace(microsecond=0)


def _has_fixed_offset(zone: ZoneInfo) -> bool:
    """True for UTC and the `Etc/` zones, whose offset never changes."""
    return zone.key in {"UTC", "GMT", "Zulu"} or zone.key.startswith("Etc/")
