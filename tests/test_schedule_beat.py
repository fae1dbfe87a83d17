"""Beat's handling of entries: start-up sync, edits, dynamic entries, missed slots."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redbeat.schedulers import get_redis

from project.scheduling import clock
from project.scheduling.entries import ScheduleEntry
from project.scheduling.redbeat import ProjectEntry, ProjectScheduler
from project.scheduling.schedule import CronSchedule
from project.scheduling.store import add_dynamic, list_entries, load_entry
from project.tasks.maintenance import CleanupJob, cleanup
from tests.support.schedule_driver import ManualClock, SchedulerDriver

NOON = datetime(2026, 6, 10, 12, 0, 7, tzinfo=UTC)


@pytest.fixture
def redbeat(app: Any) -> Iterator[Any]:
    """RedBeat's keys cleared before and after, so each test starts bare."""
    from redbeat.schedulers import ensure_conf

    ensure_conf(app)
    client = get_redis(app)

    def clear() -> None:
        keys = list(client.scan_iter(match="redbeat:*"))
        if keys:
            client.delete(*keys)

    clear()
    yield client
    clear()


def start_beat(app: Any, moment: datetime) -> ProjectScheduler:
    """What `celery beat` does at start-up: build the scheduler, sync the entries."""
    with clock.using(ManualClock(moment)):
        return ProjectScheduler(app)


def test_start_writes_static_entries_and_fires_nothing(app: Any, redbeat: Any) -> None:
    start_beat(app, NOON)
    with SchedulerDriver(app, NOON) as driver:
        fired = driver.tick_at(NOON + timedelta(seconds=1))
    assert fired == []
    assert redbeat.smembers("redbeat::statics") == {"daily-report", "cleanup"}
    stored = load_entry(app, "cleanup")
    assert stored is not None
    assert stored.schedule == CronSchedule("0 2 * * *", "UTC")
    assert stored.last_run_at == NOON
    assert stored.dynamic is False


def test_an_entry_removed_from_schedules_py_goes_at_the_next_start(
    app: Any, redbeat: Any
) -> None:
    # Given an entry that an earlier schedules.py declared
    old = ProjectEntry(
        name="retired",
        task="maintenance.cleanup",
        schedule=CronSchedule("0 3 * * *"),
        args=[{}],
        last_run_at=NOON,
        app=app,
    ).save()
    redbeat.sadd("redbeat::statics", "retired")
    # When beat starts with today's schedules.py
    start_beat(app, NOON)
    # Then it is gone from Redis, and the declared ones are there
    assert not redbeat.exists(old.key)
    assert redbeat.zscore("redbeat::schedule", old.key) is None
    assert load_entry(app, "daily-report") is not None


def test_an_edited_cron_takes_effect_from_the_next_slot(app: Any, redbeat: Any) -> None:
    # Given cleanup stored with another cron and a last run three days ago
    ProjectEntry(
        name="cleanup",
        task="maintenance.cleanup",
        schedule=CronSchedule("0 5 * * *"),
        args=[{}],
        last_run_at=NOON - timedelta(days=3),
        app=app,
    ).save()
    # When beat starts with the declared cron (0 2 * * *)
    start_beat(app, NOON)
    stored = load_entry(app, "cleanup")
    assert stored is not None
    # Then the new cron is stored and nothing catches up: the next slot is 02:00
    assert stored.schedule.cron == "0 2 * * *"
    assert stored.last_run_at == NOON
    assert stored.due_at == datetime(2026, 6, 11, 2, 0, tzinfo=UTC)


def test_an_unchanged_entry_keeps_its_last_run(app: Any, redbeat: Any) -> None:
    earlier = NOON - timedelta(hours=30)
    ProjectEntry(
        name="cleanup",
        task="maintenance.cleanup",
        schedule=CronSchedule("0 2 * * *"),
        args=[{}],
        last_run_at=earlier,
        app=app,
    ).save()
    start_beat(app, NOON)
    stored = load_entry(app, "cleanup")
    assert stored is not None
    assert stored.last_run_at == earlier


def test_dynamic_entries_survive_a_restart_and_are_marked(
    app: Any, redbeat: Any
) -> None:
    with clock.using(ManualClock(NOON)):
        add_dynamic(
            app,
            ScheduleEntry(
                name="hourly-cleanup",
                cron="0 * * * *",
                task=cleanup,
                payload=CleanupJob(),
                timezone="Europe/Berlin",
            ),
        )
    start_beat(app, NOON + timedelta(minutes=5))
    start_beat(app, NOON + timedelta(minutes=6))
    views = {view.name: view for view in list_entries(app)}
    assert views["hourly-cleanup"].dynamic is True
    assert views["hourly-cleanup"].schedule.timezone == "Europe/Berlin"
    assert views["cleanup"].dynamic is False
    assert "hourly-cleanup" not in redbeat.smembers("redbeat::statics")


def test_a_missed_slot_runs_once_with_an_expiry(app: Any, redbeat: Any) -> None:
    with SchedulerDriver(app, NOON) as driver:
        # Given a daily entry whose beat was down for three of its slots
        driver.add(
            "catch-up",
            "0 6 * * *",
            last_run_at=NOON - timedelta(days=3),
            expires_s=3600,
        )
        captured: list[dict[str, Any]] = []
        from celery import signals

        def keep(headers: Any = None, **_: Any) -> None:
            captured.append(dict(headers))

        signals.after_task_publish.connect(keep, weak=False)
        try:
            # When beat ticks, twice
            first = driver.tick_at(NOON)
            second = driver.tick_at(NOON + timedelta(seconds=5))
        finally:
            signals.after_task_publish.disconnect(keep)
    # Then one fire, for the latest missed slot, with the entry's expiry
    assert [fire.slot for fire in first] == ["catch-up@2026-06-10T06:00:00Z"]
    assert second == []
    # Celery turns the relative expiry into an instant when it publishes
    expires = datetime.fromisoformat(str(captured[0]["expires"]))
    left = expires - datetime.now(UTC)
    assert timedelta(minutes=55) < left <= timedelta(hours=1)


def test_a_missed_slot_is_skipped_when_the_entry_says_so(
    app: Any, redbeat: Any
) -> None:
    with SchedulerDriver(app, NOON) as driver:
        driver.add(
            "no-catch-up",
            "0 6 * * *",
            missed="skip",
            last_run_at=NOON - timedelta(days=1),
        )
        skipped = driver.tick_at(NOON)
        # The skip moved the entry on: its next slot fires as usual
        following = driver.run_until("no-catch-up", NOON + timedelta(days=1))
    assert skipped == []
    assert [fire.slot for fire in following] == ["no-catch-up@2026-06-11T06:00:00Z"]


def test_a_fire_delayed_by_a_takeover_is_not_a_missed_slot(
    app: Any, redbeat: Any
) -> None:
    slot = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    with SchedulerDriver(app, slot - timedelta(hours=1)) as driver:
        driver.add("late", "0 * * * *", missed="skip")
        fired = driver.tick_at(slot + timedelta(seconds=20))
    assert [fire.slot for fire in fired] == ["late@2026-06-10T12:00:00Z"]


def test_the_stored_definition_is_json_with_the_zone(app: Any, redbeat: Any) -> None:
    start_beat(app, NOON)
    raw = redbeat.hget("redbeat:daily-report", "definition")
    definition = json.loads(raw)
    assert definition["schedule"] == {
        "__type__": "project.cron",
        "cron": "0 0 * * *",
        "timezone": "UTC",
    }
    assert definition["options"]["queue"] == "reports"
    assert definition["dynamic"] is False


def test_the_last_run_is_shown_only_once_beat_fired(app: Any, redbeat: Any) -> None:
    def last_run() -> datetime | None:
        view = next(v for v in list_entries(app) if v.name == "shown")
        return view.last_run_at

    with SchedulerDriver(app, NOON) as driver:
        driver.add("shown", "0 13 * * *")
        assert last_run() is None
        driver.run_until("shown", NOON + timedelta(hours=2))
        assert last_run() == datetime(2026, 6, 10, 13, 0, tzinfo=UTC)
