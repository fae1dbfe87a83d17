"""`project deadletter`: list, show, replay and purge tasks that failed for good."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from project.cli.output import (
    EXIT_FAILED,
    EXIT_USAGE,
    fail,
    first_lines,
    print_json,
    require_services,
)
from project.deadletter import DeadLetter, DeadLetterStore, Reason, dead_letter_store
from project.errors import UnknownTaskError, ValidationFailed
from project.typed import get_task

AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
# Seconds in each unit of an age.
AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
# Far beyond any retention, and far from datetime's limit (the year 1).
MAX_AGE_DAYS = 36_500
# Replaying more than this shows a progress bar.
PROGRESS_FROM = 10
# The shortest id prefix that `show` and `replay` look up; ambiguous ones shown.
MIN_PREFIX = 8
SHOWN_MATCHES = 10


@click.group("deadletter")
def deadletter() -> None:
    """Tasks that failed for good: read them, replay them, purge them."""


@deadletter.command("list")
@click.option("--task", "task_name", help="Only dead letters of this task.")
@click.option(
    "--reason",
    type=click.Choice([reason.value for reason in Reason]),
    help="Only this.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_letters(task_name: str | None, reason: str | None, as_json: bool) -> None:
    """List dead letters, newest failure first."""
    letters = dead_letter_store().entries(task=task_name, reason=reason)
    if as_json:
        print_json(
            [
                letter.model_dump(mode="json", exclude={"traceback"})
                for letter in letters
            ]
        )
        return
    if not letters:
        click.echo("no dead letters")
        return
    table = Table("id", "task", "reason", "attempts", "error", "last failed (UTC)")
    for letter in letters:
        table.add_row(
            letter.id,
            letter.task,
            letter.reason.value,
            str(letter.attempts),
            _shorten(f"{letter.error_type}: {letter.error_message}"),
            letter.last_failed_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    Console().print(table)


@deadletter.command("show")
@click.argument("task_id", metavar="ID")
def show(task_id: str) -> None:
    """Print one dead letter as JSON, with its payload and traceback.

    ID is the task id, or a unique prefix of at least 8 characters of it.
    """
    letter = find_letter(dead_letter_store(), task_id)
    print_json(letter.model_dump(mode="json"))


@deadletter.command("replay")
@click.argument("task_id", metavar="[ID]", required=False)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
@click.option("--task", "task_name", help="With --all: only this task's.")
def replay(task_id: str | None, replay_all: bool, task_name: str | None) -> None:
    """Enqueue a dead letter's payload again, with a fresh retry budget.

    The payload is validated against the task's payload model of today; the dead
    letter is deleted only once the new task is published, and kept when its
    payload no longer validates. The new task gets a new id. ID may be a unique
    prefix of at least 8 characters.
    """
    if (task_id is None) == (not replay_all) or (task_name and not replay_all):
        fail("give either a dead letter ID, or --all (with --task NAME)", EXIT_USAGE)
    require_services()
    store = dead_letter_store()
    if task_id is not None:
        problem = _replay_one(store, find_letter(store, task_id))
        if problem:
            fail(problem, EXIT_USAGE)
        return
    _replay_many(store, store.entries(task=task_name))


@deadletter.command("purge")
@click.option(
    "--older-than",
    "older_than",
    metavar="AGE",
    help="Only those whose last failure is older than AGE: 90s, 30m, 12h, 7d, 2w.",
)
@click.option("--yes", is_flag=True, help="Purge everything without asking.")
def purge(older_than: str | None, yes: bool) -> None:
    """Delete dead letters: all of them, or those older than an age."""
    age = parse_age(older_than) if older_than else None
    store = dead_letter_store()
    if age is None and not yes:
        click.confirm(f"Delete all {store.count()} dead letters?", abort=True)
    removed = store.purge(older_than=age)
    click.echo(f"removed {removed} dead letter{'s' if removed != 1 else ''}")


def parse_age(text: str) -> timedelta:
    """`7d` -> 7 days; units s, m, h, d and w."""
    match = AGE.match(text)
    if match is None:
        fail(
            f"--older-than {text!r} is not an age; use a number and a unit, such as"
            " 90s, 30m, 12h, 7d or 2w",
            EXIT_USAGE,
        )
    amount, unit = match.groups()
    # In Python ints first: timedelta and datetime overflow on huge ages.
    seconds = int(amount) * AGE_UNITS[unit]
    if seconds > MAX_AGE_DAYS * AGE_UNITS["d"]:
        fail(
            f"--older-than {text!r} is too large; the largest accepted age is"
            f" {MAX_AGE_DAYS}d (100 years)",
            EXIT_USAGE,
        )
    return timedelta(seconds=seconds)


def find_letter(store: DeadLetterStore, text: str) -> DeadLetter:
    """The dead letter whose id is `text`, or the one it is a unique prefix of.

    An ambiguous prefix exits with code 2 and the matching ids; none with 1.
    """
    letter = store.get(text)
    if letter is not None:
        return letter
    matches = store.ids_starting_with(text) if len(text) >= MIN_PREFIX else []
    if len(matches) > 1:
        fail(
            f"{len(matches)} dead letters have ids starting with {text}; give more"
            " of the id:" + first_lines(matches, SHOWN_MATCHES),
            EXIT_USAGE,
        )
    letter = store.get(matches[0]) if matches else None
    if letter is None:
        fail(
            f"no dead letter has id {text}, or an id starting with it (at least"
            f" {MIN_PREFIX} characters); `project deadletter list` shows them"
        )
    return letter


def _replay_one(store: Any, letter: DeadLetter) -> str | None:
    """Publish the letter's payload again; the reason it cannot be, or None."""
    try:
        task = get_task(letter.task)
        payload = task.parse_payload(letter.payload)
    except UnknownTaskError as exc:
        return f"dead letter {letter.id} is kept: {exc}"
    except ValidationFailed as exc:
        return f"dead letter {letter.id} is kept: {exc}"
    handle = task.apply_async(payload)
    store.delete(letter.id)
    click.echo(f"replayed {letter.id} as {handle.id}")
    return None


def _replay_many(store: Any, letters: list[DeadLetter]) -> None:
    console = Console(stderr=True)
    problems: list[str] = []
    with Progress(
        TextColumn("replaying dead letters"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=len(letters) < PROGRESS_FROM,
    ) as progress:
        bar = progress.add_task("replay", total=len(letters))
        for letter in letters:
            problem = _replay_one(store, letter)
            if problem:
                problems.append(problem)
            progress.advance(bar)
    for problem in problems:
        click.echo(problem, err=True)
    replayed = len(letters) - len(problems)
    console.print(f"replayed {replayed}, kept {len(problems)}")
    if problems:
        raise SystemExit(EXIT_FAILED)


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
