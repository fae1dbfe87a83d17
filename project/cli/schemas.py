"""`project schemas`: write every task's JSON Schema and the envelope document."""

from __future__ import annotations

from pathlib import Path

import click

from project.schemas import write_contracts


@click.command("schemas")
@click.option(
    "--out",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Folder to write into; created when missing.",
)
def schemas(folder: Path) -> None:
    """Write JSON Schema for every task's payload and result, and ENVELOPE.md.

    Together they let a producer in any language enqueue tasks; commit the folder
    so that tests/test_schema_compat.py can hold model changes against it.
    """
    for path in write_contracts(folder):
        click.echo(str(path))
