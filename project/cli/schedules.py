"""`project schedules`: list, add, remove and run schedule entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from cron_descriptor import (  # type: ignore[import-untyped]
    ExpressionDescriptor,
    Options,
)
from rich.console import Console
from rich.table import Table

from project.cli.output import (
    EXIT_USAGE,
    fail,
    fail_validation,
    print_json,
    require_services,
)
from project.cli.tasks import wait_and_print, wait_options
from project.errors import DeclarationError, UnknownTaskError, ValidationFailed
from project.scheduling import clock
from project.scheduling.store import (
    EntryExists,
    EntryView,
    add_dynamic,
    list_entries,
    remove_dynamic,
)
from project.scheduling.store import run_now as fire_now

UPCOMING = 3


def _app() -> Any:
    from project import app

    return app


def describe(cron: str) -> str:
    """cron-descriptor's English reading of `cron`, with 24-hour times."""
    options = Options()
    options.use_24hour_time_format = True
    return str(ExpressionDescriptor(cron, options).get_description())


def _row(view: EntryView) -> dict[str, Any]:
    schedule = view.schedule
    upcoming = schedule.zoned.upcoming(clock.now(), UPCOMING)
    return {
        "name": view.name,
        "task": view.task,
        "cron": schedule.cron,
        "description": describe(schedule.cron),
        "timezone": schedule.timezone,
        "next_runs": [t.astimezone(schedule.zoned.zone).isoformat() for t in upcoming],
        "next_runs_utc": [t.isoformat() for t in upcoming],
        "last_run_at": view.last_run_at.isoformat() if view.last_run_at else None,
        "enabled": view.enabled,
        "kind": "dynamic" if view.dynamic else "static",
    }


def _short(moment: str) -> str:
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M %Z")


@click.group("schedules", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def schedules(ctx: click.Context, as_json: bool) -> None:
    """List the schedule entries with their next runs; or add, remove, run one."""
    if ctx.invoked_subcommand is not None:
        return
    rows = [_row(view) for view in list_entries(_app())]
    if as_json:
        print_json(rows)
        return
    table = Table(
        "name",
        "cron",
        "when",
        "zone",
        "next runs (zone / UTC)",
        "last run",
        "enabled",
        "kind",
    )
    for row in rows:
        upcoming = "\n".join(
            f"{_short(local)} / {_short(utc)}"
            for local, utc in zip(row["next_runs"], row["next_runs_utc"], strict=True)
        )
        last = _short(row["last_run_at"]) if row["last_run_at"] else "never"
        table.add_row(
            row["name"],
            row["cron"],
            row["description"],
            row["timezone"],
            upcoming,
            last,
            "yes" if row["enabled"] else "no",
            row["kind"],
        )
    Console(width=160).print(table)


@schedules.command("add")
@click.argument("name")
@click.argument("cron")
@click.argument("task_name", metavar="TASK")
@click.argument("payload", metavar="JSON")
@click.option(
    "--tz",
    "timezone",
    default="UTC",
    show_default=True,
    help="IANA time zone the cron is read in.",
)
@click.option("--replace", is_flag=True, help="Replace a dynamic entry of that name.")
def add(
    name: str, cron: str, task_name: str, payload: str, timezone: str, replace: bool
) -> None:
    """Add a dynamic entry: TASK with JSON as its payload at the slots of CRON.

    A dynamic entry of the same name is refused unless --replace is given.
    """
    from project.scheduling.entries import ScheduleEntry
    from project.typed import get_task

    try:
        task = get_task(task_name)
        entry = ScheduleEntry(
            name=name,
            cron=cron,
            task=task,
            payload=task.parse_payload(payload),
            timezone=timezone,
        )
        add_dynamic(_app(), entry, replace=replace)
    except EntryExists as exc:
        fail(f"{exc}, or pass --replace", EXIT_USAGE)
    except (UnknownTaskError, DeclarationError) as exc:
        fail(str(exc), EXIT_USAGE)
    except ValidationFailed as exc:
        fail_validation(exc)
    click.echo(f"added dynamic schedule entry {name}")


@schedules.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Remove a dynamic entry."""
    try:
        remove_dynamic(_app(), name)
    except DeclarationError as exc:
        fail(str(exc), EXIT_USAGE)
    except LookupError as exc:
        fail(str(exc.args[0]), EXIT_USAGE)
    click.echo(f"removed schedule entry {name}")


@schedules.command("run")
@click.argument("name")
@wait_options(default_timeout_s=120.0)
def run(name: str, wait: bool, timeout: float) -> None:
    """Fire NAME once now, through the same path as a scheduled fire."""
    require_services()
    try:
        result = fire_now(_app(), name)
    except LookupError as exc:
        fail(str(exc.args[0]), EXIT_USAGE)
    if not wait:
        click.echo(result.id)
        return
    wait_and_print(result, timeout)
