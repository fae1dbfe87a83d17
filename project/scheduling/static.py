"""The static entries of `project/schedules.py`, in the form beat stores."""

from __future__ import annotations

from typing import Any

from project.scheduling.entries import ScheduleEntry
from project.scheduling.schedule import CronSchedule


def beat_definition(entry: ScheduleEntry[Any]) -> dict[str, Any]:
    """What RedBeat stores for one entry (JSON apart from the schedule)."""
    return {
        "task": entry.task.name,
        "schedule": CronSchedule(entry.cron, entry.timezone),
        "args": [entry.payload_json()],
        "kwargs": {},
        "options": entry.message_options(),
        "enabled": entry.enabled,
        "missed": entry.missed,
    }


def declared_entries() -> dict[str, ScheduleEntry[Any]]:
    """The entries declared in `project/schedules.py`, checked on import."""
    from project.schedules import SCHEDULE

    return dict(SCHEDULE)


def static_beat_schedule() -> dict[str, dict[str, Any]]:
    return {name: beat_definition(entry) for name, entry in declared_entries().items()}
