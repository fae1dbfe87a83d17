"""The real beat scheduler (ProjectScheduler on the test Redis) on a manual clock.

Tests add entries, then step the clock to each instant the scheduler itself
says is next (its RedBeat index), tick it, and record every task message it
publishes to the real broker. A tick one second before each due instant checks
that nothing fires early.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import signals

from project.scheduling import clock
from project.scheduling.redbeat import ProjectEntry, ProjectScheduler
from project.scheduling.schedule import CronSchedule
from project.scheduling.slots import SLOT_HEADER

PROBE_TASK = "tests.schedule.probe"
PROBE_QUEUE = "default"


class ManualClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment


@dataclass(frozen=True)
class Fire:
    slot: str
    at: datetime
    task_id: str


class SchedulerDriver:
    def __init__(self, app: Any, start: datetime) -> None:
        self.app = app
        self.clock = ManualClock(start)
        self.fires: list[Fire] = []
        self.names: list[str] = []
        self._using = clock.using(self.clock)
        self.scheduler = ProjectScheduler(app, lazy=True)
        # One scheduler in one process: the distributed lock is not under test.
        self.scheduler.lock_key = None

    def __enter__(self) -> SchedulerDriver:
        self._using.__enter__()
        signals.after_task_publish.connect(self._published, weak=False)
        return self

    def __exit__(self, *exc: object) -> None:
        signals.after_task_publish.disconnect(self._published)
        self._using.__exit__(None, None, None)
        for name in self.names:
            ProjectEntry(name=name, app=self.app).delete()
        with self.app.connection_for_write() as connection:
            connection.default_channel.queue_purge(PROBE_QUEUE)

    def _published(self, headers: Any = None, **_: Any) -> None:
        slot = (headers or {}).get(SLOT_HEADER)
        if slot:
            self.fires.append(Fire(str(slot), self.clock.moment, str(headers["id"])))

    def add(
        self,
        name: str,
        cron: str,
        timezone: str = "UTC",
        *,
        missed: str = "run_once",
        last_run_at: datetime | None = None,
        expires_s: float | None = None,
    ) -> ProjectEntry:
        entry = ProjectEntry(
            name=name,
            task=PROBE_TASK,
            schedule=CronSchedule(cron, timezone),
            args=[{}],
            options={
                "queue": PROBE_QUEUE,
                **({"expires": expires_s} if expires_s else {}),
            },
            missed=missed,
            dynamic=True,
            last_run_at=last_run_at or self.clock.moment,
            app=self.app,
        )
        entry.delete()
        self.names.append(name)
        saved: ProjectEntry = entry.save()
        return saved

    def next_due(self, name: str) -> datetime:
        client = _redis(self.app)
        score = client.zscore(self.app.redbeat_conf.schedule_key, f"redbeat:{name}")
        assert score is not None, f"{name} is not in the schedule index"
        return datetime.fromtimestamp(score, clock.now().tzinfo)

    def tick_at(self, moment: datetime) -> list[Fire]:
        before = len(self.fires)
        self.clock.moment = moment
        self.scheduler.tick()
        return self.fires[before:]

    def run_until(self, name: str, end: datetime) -> list[Fire]:
        """Step through every due instant of `name` up to `end`; the fires."""
        start = len(self.fires)
        while True:
            due = self.next_due(name)
            if due > end:
                self.clock.moment = end
                return [f for f in self.fires[start:] if f.slot.startswith(f"{name}@")]
            early = self.tick_at(due - timedelta(seconds=1))
            assert not early, f"{name} fired before its due instant {due}: {early}"
            fired = [f for f in self.tick_at(due) if f.slot.startswith(f"{name}@")]
            assert fired, f"{name} did not fire at its due instant {due}"


def _redis(app: Any) -> Any:
    from redbeat.schedulers import get_redis

    return get_redis(app)
