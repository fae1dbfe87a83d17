"""`project send` and `project tasks`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from celery.exceptions import TimeoutError as CeleryTimeoutError
from rich.console import Console
from rich.table import Table

from project.cli.bulk import send_file
from project.cli.output import (
    BROKER_ERRORS,
    EXIT_USAGE,
    fail,
    fail_validation,
    print_json,
    require_services,
    service_error,
)
from project.errors import UnknownTaskError, ValidationFailed
from project.typed import TypedResult, get_task, load_all

F = TypeVar("F", bound=Callable[..., Any])


def wait_options(default_timeout_s: float) -> Callable[[F], F]:
    """`--wait` and `--timeout`, checked by click before anything is published."""

    def add(command: F) -> F:
        timeout = click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=default_timeout_s,
            show_default=True,
            help="Seconds to wait with --wait; above 0.",
        )
        wait = click.option(
            "--wait", is_flag=True, help="Wait for the result and print it as JSON."
        )
        return wait(timeout(command))

    return add


@click.command()
@click.argument("task_name", metavar="TASK")
# Optional with --from-file; the brackets say so in the usage line.
@click.argument("payload", metavar="[JSON]", required=False)
@wait_options(default_timeout_s=60.0)
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Enqueue every line of a JSON-lines file as a payload (bulk).",
)
def send(
    task_name: str, payload: str | None, wait: bool, timeout: float, from_file: Path
) -> None:
    """Validate JSON as TASK's payload, enqueue it and print the task id.

    With --from-file, every line is a payload; they are enqueued in chunks and
    their ids printed one a line. Invalid JSON or an invalid payload exits with
    code 2 and publishes nothing.
    """
    if (payload is None) == (from_file is None) or (from_file and wait):
        fail("give either a JSON payload or --from-file (without --wait)", EXIT_USAGE)
    require_services()
    try:
        task = get_task(task_name)
        if from_file is not None:
            return send_file(task, from_file)
        handle = task.delay_data(payload)
    except UnknownTaskError as exc:
        fail(str(exc), EXIT_USAGE)
    except ValidationFailed as exc:
        fail_validation(exc)
    except BROKER_ERRORS as exc:
        fail(service_error(exc, "BROKER_URL"))
    if not wait:
        click.echo(handle.id)
        return
    wait_and_print(handle, timeout)


def wait_and_print(handle: TypedResult[Any], timeout: float) -> None:
    """Wait for the task's result and print id, status and result as JSON."""
    try:
        result = handle.get(timeout=timeout)
    except CeleryTimeoutError:
        release(handle)
        fail(
            f"task {handle.id} gave no result within {timeout:g} s; is a worker"
            " running? (`celery -A project worker`)"
        )
    except ValidationFailed as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"task {handle.id} failed: {type(exc).__name__}: {exc}")
    body = None if result is None else json.loads(result.model_dump_json())
    print_json({"task_id": handle.id, "status": handle.status, "result": body})


def release(handle: TypedResult[Any]) -> None:
    """Stop waiting for a result that never came, while Python is still whole.

    Otherwise AsyncResult.__del__ unsubscribes at interpreter shutdown, when
    imports fail, and Python prints a screenful of "Exception ignored" lines.
    """
    result = handle.async_result
    if result.backend is not None:
        result.backend.remove_pending_result(result)
        result.backend = None


@click.command("tasks")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_tasks(as_json: bool) -> None:
    """List the typed tasks: name, queue, payload and result model."""
    rows = [
        {
            "name": task.name,
            "queue": task.spec.queue,
            "payload": task.payload_type.__name__,
            "result": task.result_type.__name__ if task.result_type else None,
            "time_limits_s": [task.spec.soft_time_limit_s, task.spec.time_limit_s],
        }
        for task in load_all().values()
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("task", "queue", "payload", "result", "time limits (soft/hard)")
    for row in rows:
        soft, hard = row["time_limits_s"]
        table.add_row(
            row["name"],
            row["queue"],
            row["payload"],
            row["result"] or "-",
            f"{soft:g} s / {hard:g} s",
        )
    Console().print(table)
