"""`project health`: one line and an exit code, for people and healthchecks."""

from __future__ import annotations

import click

from project.cli.output import EXIT_FAILED, print_json
from project.health import CHECKS, run_checks


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print every check as JSON.")
@click.option(
    "--check",
    "only",
    multiple=True,
    type=click.Choice(CHECKS),
    help="Run only this check (repeatable); naming beat requires a beat to run.",
)
@click.option("--worker", help="Require this worker (e.g. celery@host) to answer.")
@click.option(
    "--timeout", default=2.0, show_default=True, help="Seconds to wait for answers."
)
@click.option(
    "--max-wait",
    default=300.0,
    show_default=True,
    help="Unhealthy when a message has waited longer than this many seconds.",
)
def health(
    as_json: bool,
    only: tuple[str, ...],
    worker: str | None,
    timeout: float,
    max_wait: float,
) -> None:
    """Check broker, workers, beat and queues; exit 0 when healthy, else 1."""
    from project import app

    report = run_checks(
        app, only, timeout_s=timeout, max_wait_s=max_wait, worker=worker
    )
    if as_json:
        print_json(report.as_dict())
    else:
        click.echo(report.line())
    if not report.ok:
        raise SystemExit(EXIT_FAILED)
