"""`project send TASK --from-file payloads.jsonl`: many payloads, one per line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from project.cli.output import EXIT_USAGE, fail, first_lines
from project.errors import ValidationFailed
from project.typed.bulk import PartlyPublished, delay_many

# Invalid lines shown before the rest are only counted.
SHOWN_ERRORS = 20


def send_file(task: Any, path: Path) -> None:
    """Validate every line of `path`, then enqueue them all; print one id a line.

    Any invalid line refuses the whole file (exit 2) and publishes nothing, so a
    half-sent file never needs to be untangled.
    """
    payloads = _read_payloads(task, path)
    console = Console(stderr=True)
    with Progress(
        TextColumn("enqueueing {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        bar = progress.add_task(task.name, total=len(payloads))
        try:
            handles = delay_many(
                task, payloads, on_published=lambda n: progress.advance(bar, n)
            )
        except PartlyPublished as exc:
            # The ids already queued still go to stdout, so nothing is untracked.
            for task_id in exc.task_ids:
                click.echo(task_id)
            fail(
                f"{exc}; the payloads after the first {len(exc.task_ids)} were not sent"
            )
    for handle in handles:
        click.echo(handle.id)
    console.print(f"enqueued {len(handles)} {task.name} tasks from {path}")


def _read_payloads(task: Any, path: Path) -> list[Any]:
    payloads: list[Any] = []
    problems: list[str] = []
    for number, line in enumerate(_lines(path), start=1):
        if isinstance(line, UnicodeDecodeError):
            problems.append(_not_utf8(number, line))
            continue
        if not line.strip():
            continue
        try:
            payloads.append(task.parse_payload(line))
        except ValidationFailed as exc:
            problems.extend(_describe(number, error) for error in exc.errors)
    if problems:
        fail(
            f"{path}: invalid payloads for task {task.name}, nothing was enqueued:"
            + first_lines(problems, SHOWN_ERRORS),
            EXIT_USAGE,
        )
    if not payloads:
        fail(f"{path} holds no payloads (one JSON object a line)", EXIT_USAGE)
    return payloads


def _lines(path: Path) -> Iterator[str | UnicodeDecodeError]:
    """Each line of `path` as text, or the error of a line that is not UTF-8."""
    try:
        with path.open("rb") as lines:
            for raw in lines:
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield exc
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", EXIT_USAGE)


def _not_utf8(line: int, exc: UnicodeDecodeError) -> str:
    byte = exc.object[exc.start]
    return (
        f"line {line}: not UTF-8 text (invalid byte 0x{byte:02x} at position"
        f" {exc.start + 1}); save the file as UTF-8"
    )


def _describe(line: int, error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ())) or "(payload)"
    return f"line {line}: {location}: {error.get('msg')}"
