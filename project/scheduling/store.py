"""Schedule entries in Redis, for the CLI: list, add, remove, run now.

Static entries come from `project/schedules.py` and are written by beat at
start-up; dynamic entries are added here at run time, stored the same way with
`dynamic: true`, and survive restarts because beat never deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redbeat.schedulers import ensure_conf, get_redis

from project.errors import DeclarationError
from project.scheduling import clock
from project.scheduling.entries import ScheduleEntry
from project.scheduling.fire import fire
from project.scheduling.redbeat import ProjectEntry
from project.scheduling.schedule import CronSchedule
from project.scheduling.static import beat_definition, declared_entries
from project.typed import TypedResult, TypedTask, get_task


@dataclass(frozen=True)
class EntryView:
    """What `project schedules` shows of one entry."""

    name: str
    task: str
    schedule: CronSchedule
    enabled: bool
    dynamic: bool
    last_run_at: datetime | None
    args: list[Any]
    options: dict[str, Any]


def _key(app: Any, name: str) -> str:
    ensure_conf(app)
    return str(ProjectEntry.generate_key(app, name))


def load_entry(app: Any, name: str) -> ProjectEntry | None:
    try:
        entry: ProjectEntry = ProjectEntry.from_key(_key(app, name), app=app)
        return entry
    except KeyError:
        return None


def _last_run(stored: ProjectEntry | None) -> datetime | None:
    """When beat last fired the entry; None when it never did.

    RedBeat stores a new entry with `last_run_at` = the time it was saved, so
    only a run count above zero means a real run.
    """
    if stored is None or not stored.total_run_count:
        return None
    last: datetime | None = stored.last_run_at
    return last


def _view(name: str, entry: ProjectEntry, last_run_at: datetime | None) -> EntryView:
    return EntryView(
        name=name,
        task=entry.task,
        schedule=entry.schedule,
        enabled=bool(entry.enabled),
        dynamic=bool(entry.dynamic),
        last_run_at=last_run_at,
        args=list(entry.args or []),
        options=dict(entry.options or {}),
    )


def list_entries(app: Any) -> list[EntryView]:
    """Static entries as declared (with their last run from Redis), then dynamic."""
    views = []
    statics = declared_entries()
    for name, declared in statics.items():
        stored = load_entry(app, name)
        entry = ProjectEntry(name=name, app=app, **beat_definition(declared))
        views.append(_view(name, entry, _last_run(stored)))
    for key in sorted(get_redis(app).zrange(app.redbeat_conf.schedule_key, 0, -1)):
        name = key.removeprefix(app.redbeat_conf.key_prefix)
        stored = load_entry(app, name)
        if name not in statics and stored is not None and stored.dynamic:
            views.append(_view(name, stored, _last_run(stored)))
    return views


class EntryExists(DeclarationError):
    """A dynamic entry of that name is stored already."""

    def __init__(self, name: str) -> None:
        super().__init__(f"schedule entry {name!r} exists; remove it first")
        self.name = name


def add_dynamic(
    app: Any, entry: ScheduleEntry[Any], *, replace: bool = False
) -> ProjectEntry:
    """Store a dynamic entry; its first fire is its first slot from now.

    A dynamic entry of the same name raises EntryExists, unless `replace`.
    """
    if entry.name in declared_entries():
        raise DeclarationError(
            f"schedule entry {entry.name!r} is declared in project/schedules.py;"
            " choose another name for a dynamic entry"
        )
    existing = load_entry(app, entry.name)
    if not replace and existing is not None and existing.dynamic:
        raise EntryExists(entry.name)
    stored = ProjectEntry(
        name=entry.name,
        app=app,
        dynamic=True,
        last_run_at=clock.now(),
        **beat_definition(entry),
    )
    # A re-added name starts afresh rather than keeping an old last run.
    get_redis(app).delete(stored.key)
    return stored.save()


def remove_dynamic(app: Any, name: str) -> None:
    """Delete a dynamic entry; static ones are removed from schedules.py instead."""
    if name in declared_entries():
        raise DeclarationError(
            f"schedule entry {name!r} is static: delete it from project/schedules.py"
            " and restart beat to remove it"
        )
    entry = load_entry(app, name)
    if entry is None:
        raise LookupError(f"no schedule entry is called {name!r}")
    entry.delete()


def run_now(app: Any, name: str) -> TypedResult[Any]:
    """Fire `name` once now, through the same path as a scheduled fire; the
    typed handle of the task it sent."""
    view = next((v for v in list_entries(app) if v.name == name), None)
    if view is None:
        raise LookupError(f"no schedule entry is called {name!r}")
    sent = fire(
        app,
        entry_name=view.name,
        task_name=view.task,
        args=view.args,
        options=view.options,
        slot=clock.now().replace(microsecond=0),
    )
    task: TypedTask[Any, Any] = get_task(view.task)
    return task.result(sent.id)
