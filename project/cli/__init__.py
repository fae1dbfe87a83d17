"""The `project` command: enqueue tasks and inspect the service.

Sub-commands live in their own modules and register on `main`. `main` is a
ServiceGroup: any command that finds Redis or the broker down exits with one line
and code 1, not a traceback.
"""

from __future__ import annotations

import click

from project.cli import deadletter as _deadletter
from project.cli import health as _health
from project.cli import schedules as _schedules
from project.cli import schemas as _schemas
from project.cli import tasks as _tasks
from project.cli.output import ServiceGroup


@click.group(cls=ServiceGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Operate the typed Celery service."""


main.add_command(_tasks.send)
main.add_command(_tasks.list_tasks)
main.add_command(_schemas.schemas)
main.add_command(_schedules.schedules)
main.add_command(_health.health)
main.add_command(_deadletter.deadletter)
