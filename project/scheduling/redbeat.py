"""RedBeat subclasses that store and load `CronSchedule` entries.

RedBeat's JSON encoder knows only crontab, interval and rrule, and reaches its
decoder through the entry class, so both are replaced here. The scheduler adds
what the project needs on top: the static entries of `project/schedules.py`, a
reset of `last_run_at` when a cron changes, the missed-slot policy, and a fire
that carries its one-fire-per-slot key. Beat uses it by `beat_scheduler`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from redbeat.decoder import RedBeatJSONDecoder, RedBeatJSONEncoder, to_timestamp
from redbeat.schedulers import RedBeatScheduler, RedBeatSchedulerEntry, get_redis

from project.errors import ConfigurationError
from project.scheduling import clock
from project.scheduling.fire import fire
from project.scheduling.schedule import CronSchedule
from project.scheduling.timing import beat_timing_problem

logger = logging.getLogger(__name__)

SCHEDULE_TYPE = "project.cron"


class EntryEncoder(RedBeatJSONEncoder):  # type: ignore[misc]
    def default(self, obj: Any) -> Any:
        if isinstance(obj, CronSchedule):
            return {
                "__type__": SCHEDULE_TYPE,
                "cron": obj.cron,
                "timezone": obj.timezone,
            }
        return super().default(obj)


class EntryDecoder(RedBeatJSONDecoder):  # type: ignore[misc]
    def dict_to_object(self, d: dict[str, Any]) -> Any:
        if d.get("__type__") == SCHEDULE_TYPE:
            return CronSchedule(d["cron"], d["timezone"])
        return super().dict_to_object(d)


class ProjectEntry(RedBeatSchedulerEntry):  # type: ignore[misc]
    """A RedBeat entry that also stores `dynamic` and its missed-slot policy."""

    def __init__(
        self,
        name: str | None = None,
        task: str | None = None,
        schedule: Any = None,
        args: Any = None,
        kwargs: Any = None,
        enabled: bool = True,
        options: dict[str, Any] | None = None,
        dynamic: bool = False,
        missed: str = "run_once",
        **clsargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            task=task,
            schedule=schedule,
            args=args,
            kwargs=kwargs,
            enabled=enabled,
            options=options,
            **clsargs,
        )
        self.dynamic = dynamic
        self.missed = missed

    @staticmethod
    def decode_definition(definition: str) -> Any:
        return json.loads(definition, cls=EntryDecoder)

    def default_now(self) -> datetime:
        return clock.now()

    _default_now = default_now

    @property
    def due_at(self) -> datetime | None:
        if not isinstance(self.schedule, CronSchedule):
            return super().due_at  # type: ignore[no-any-return]
        if self.last_run_at is None:
            return clock.now()
        return self.schedule.next_after(self.last_run_at)

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "args": self.args,
            "kwargs": self.kwargs,
            "options": self.options,
            "schedule": self.schedule,
            "enabled": self.enabled,
            "dynamic": self.dynamic,
            "missed": self.missed,
        }

    def save(self, *, replace_last_run: bool = False) -> ProjectEntry:
        """Write the definition and index the next slot.

        An existing last run is kept (so a restart does not fire again) unless
        `replace_last_run`: an entry whose timing changed starts afresh.
        """
        meta = json.dumps({"last_run_at": self.last_run_at}, cls=RedBeatJSONEncoder)
        definition = json.dumps(self.definition(), cls=EntryEncoder)
        with get_redis(self.app).pipeline() as pipe:
            pipe.hset(self.key, "definition", definition)
            if replace_last_run:
                pipe.hset(self.key, "meta", meta)
            else:
                pipe.hsetnx(self.key, "meta", meta)
            pipe.zadd(self.app.redbeat_conf.schedule_key, {self.key: self.score})
            pipe.execute()
        return self


class ProjectScheduler(RedBeatScheduler):  # type: ignore[misc]
    """RedBeat's scheduler with zoned cron entries and one fire per slot."""

    Entry = ProjectEntry

    def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        problem = beat_timing_problem(
            float(self.max_interval), float(self.lock_timeout)
        )
        if problem:
            raise ConfigurationError(f"beat: {problem}")

    @property
    def missed_grace(self) -> timedelta:
        """A fire later than this after its slot counts as missed.

        A standby's takeover delays a fire by up to lock timeout + loop interval;
        that is a late fire, not a slot missed while beat was down.
        """
        return timedelta(seconds=float(self.lock_timeout) + float(self.max_interval))

    def setup_schedule(self) -> None:
        from project.scheduling.static import static_beat_schedule

        self.app.conf.beat_schedule = static_beat_schedule()
        super().setup_schedule()

    def update_from_dict(self, dict_: dict[str, Any]) -> None:
        for name, definition in dict_.items():
            entry = self._maybe_entry(name, definition)
            stored = self._stored(entry)
            if stored is not None and stored.schedule == entry.schedule:
                entry.last_run_at = stored.last_run_at or clock.now()
                entry.save()
                continue
            if stored is not None:
                logger.info(
                    "Schedule entry %s changed its timing; it starts afresh", name
                )
            # New or edited: the first fire is the first slot from now.
            entry.last_run_at = clock.now()
            entry.save(replace_last_run=True)

    def _stored(self, entry: ProjectEntry) -> ProjectEntry | None:
        try:
            stored: ProjectEntry = self.Entry.from_key(entry.key, app=self.app)
        except KeyError:
            return None
        return stored

    @property
    def schedule(self) -> dict[str, ProjectEntry]:
        """The entries due now, plus the next one to wake up for."""
        max_due_at = to_timestamp(clock.now())
        client = get_redis(self.app)
        schedule_key = self.app.redbeat_conf.schedule_key
        with client.pipeline() as pipe:
            pipe.zrangebyscore(schedule_key, 0, max_due_at)
            pipe.zrangebyscore(
                schedule_key,
                f"({max_due_at}",
                max_due_at + self.max_interval,
                start=0,
                num=1,
            )
            due, next_up = pipe.execute()
        entries: dict[str, ProjectEntry] = {}
        for key in due + next_up:
            try:
                entry = self.Entry.from_key(key, app=self.app)
            except KeyError:
                logger.warning(
                    "Schedule entry %s is gone; dropping it from the index", key
                )
                client.zrem(schedule_key, key)
                continue
            entries[entry.name] = entry
        return entries

    def apply_async(
        self,
        entry: ProjectEntry,
        producer: Any = None,
        advance: bool = True,
        **kwargs: Any,
    ) -> Any:
        now = clock.now()
        slot = self._slot(entry, now)
        if advance:
            entry = self.reserve(entry)
        if entry.missed == "skip" and now - slot > self.missed_grace:
            logger.info(
                "Skipping schedule entry %s: its slot %s passed while beat was down",
                entry.name,
                slot.isoformat(),
            )
            return None
        return fire(
            self.app,
            entry_name=entry.name,
            task_name=entry.task,
            args=entry.args,
            options=dict(entry.options or {}),
            slot=slot,
            producer=producer,
        )

    @staticmethod
    def _slot(entry: ProjectEntry, now: datetime) -> datetime:
        if isinstance(entry.schedule, CronSchedule):
            return entry.schedule.slot_at_or_before(now)
        return now
