"""Daylight-saving changes, driven through the real beat scheduler on a manual clock.

Policy (docs/SCHEDULES.md): fixed hours follow the wall clock (a skipped local
time fires once at the change, a repeated one once at its first occurrence);
a wildcard hour follows real time (23 and 25 hourly fires on the change days).
2026 changes: Europe/Berlin on 29 March (02:00 CET -> 03:00 CEST, 01:00 UTC) and
25 October (03:00 CEST -> 02:00 CET, 01:00 UTC); America/New_York on 8 March
(02:00 EST -> 03:00 EDT, 07:00 UTC) and 1 November (02:00 EDT -> 01:00 EST,
06:00 UTC).
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.schedule_driver import SchedulerDriver


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (zone, cron, simulated from, simulated to, expected fire instants in UTC)
DAILY_CASES = [
    pytest.param(
        "Europe/Berlin",
        "30 2 * * *",
        "2026-03-27T12:00",
        "2026-03-30T12:00",
        ["2026-03-28T01:30", "2026-03-29T01:00", "2026-03-30T00:30"],
        id="berlin-spring-02:30-skipped-runs-at-03:00",
    ),
    pytest.param(
        "Europe/Berlin",
        "30 2 * * *",
        "2026-10-23T12:00",
        "2026-10-26T12:00",
        ["2026-10-24T00:30", "2026-10-25T00:30", "2026-10-26T01:30"],
        id="berlin-autumn-02:30-repeated-runs-once-first",
    ),
    pytest.param(
        "Europe/Berlin",
        "0 0 * * *",
        "2026-03-28T12:00",
        "2026-03-31T12:00",
        ["2026-03-28T23:00", "2026-03-29T22:00", "2026-03-30T22:00"],
        id="berlin-spring-midnight",
    ),
    pytest.param(
        "Europe/Berlin",
        "0 0 * * *",
        "2026-10-24T12:00",
        "2026-10-27T12:00",
        ["2026-10-24T22:00", "2026-10-25T23:00", "2026-10-26T23:00"],
        id="berlin-autumn-midnight",
    ),
    pytest.param(
        "America/New_York",
        "30 2 * * *",
        "2026-03-06T12:00",
        "2026-03-09T12:00",
        ["2026-03-07T07:30", "2026-03-08T07:00", "2026-03-09T06:30"],
        id="new-york-spring-02:30-skipped-runs-at-03:00",
    ),
    pytest.param(
        "America/New_York",
        "30 1 * * *",
        "2026-10-30T12:00",
        "2026-11-02T12:00",
        ["2026-10-31T05:30", "2026-11-01T05:30", "2026-11-02T06:30"],
        id="new-york-autumn-01:30-repeated-runs-once-first",
    ),
    pytest.param(
        "UTC",
        "0 0 * * *",
        "2026-03-27T12:00",
        "2026-03-30T12:00",
        ["2026-03-28T00:00", "2026-03-29T00:00", "2026-03-30T00:00"],
        id="utc-midnight-exact",
    ),
]


@pytest.mark.parametrize(("zone", "cron", "start", "end", "expected"), DAILY_CASES)
def test_daily_entry_fires_at_the_policy_instants(
    app: Any, zone: str, cron: str, start: str, end: str, expected: list[str]
) -> None:
    # Given an entry at fixed hours, saved before the simulated days
    with SchedulerDriver(app, utc(start)) as driver:
        driver.add("dst-daily", cron, zone)
        # When the scheduler runs through the change and the day after it
        fires = driver.run_until("dst-daily", utc(end))
    # Then it fired once per local day, at the instants of the policy
    assert [fire.at for fire in fires] == [utc(text) for text in expected]
    assert [fire.slot for fire in fires] == [
        f"dst-daily@{text}:00Z" for text in expected
    ]


HOURLY_CASES = [
    pytest.param("Europe/Berlin", "2026-03-29", 23, id="berlin-spring"),
    pytest.param("Europe/Berlin", "2026-10-25", 25, id="berlin-autumn"),
    pytest.param("America/New_York", "2026-03-08", 23, id="new-york-spring"),
    pytest.param("America/New_York", "2026-11-01", 25, id="new-york-autumn"),
]


@pytest.mark.parametrize(("zone", "change_day", "fires_that_day"), HOURLY_CASES)
def test_hourly_entry_follows_real_time(
    app: Any, zone: str, change_day: str, fires_that_day: int
) -> None:
    tz = ZoneInfo(zone)
    day = datetime.fromisoformat(change_day).date()
    start = datetime.combine(day, datetime.min.time(), tz) - timedelta(minutes=30)
    end = datetime.combine(day + timedelta(days=2), datetime.min.time(), tz)
    # Given an hourly entry in a zone with a change on `day`
    with SchedulerDriver(app, start.astimezone(UTC)) as driver:
        driver.add("dst-hourly", "0 * * * *", zone)
        # When the scheduler runs through the change day and the day after
        fires = driver.run_until(
            "dst-hourly", end.astimezone(UTC) - timedelta(minutes=1)
        )
    per_day = Counter(fire.at.astimezone(tz).date() for fire in fires)
    # Then it fired once per real hour: 23 or 25 times that day, 24 the day after
    assert per_day == {day: fires_that_day, day + timedelta(days=1): 24}
    gaps = {b.at - a.at for a, b in itertools.pairwise(fires)}
    assert gaps == {timedelta(hours=1)}
    assert all(fire.at.minute == 0 and fire.at.second == 0 for fire in fires)


def test_utc_entry_every_quarter_hour_is_exact(app: Any) -> None:
    start = utc("2026-03-29T00:00")
    with SchedulerDriver(app, start) as driver:
        driver.add("utc-quarter", "*/15 * * * *")
        fires = driver.run_until("utc-quarter", start + timedelta(hours=2))
    assert [fire.at for fire in fires] == [
        start + timedelta(minutes=15 * step) for step in range(1, 9)
    ]
