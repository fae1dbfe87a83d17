"""Shared output helpers for the CLI: JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import click

from project.errors import ValidationFailed

# Exit codes: 1 for a failure at run time, 2 for input that was refused.
EXIT_FAILED = 1
EXIT_USAGE = 2


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def fail_validation(exc: ValidationFailed) -> NoReturn:
    click.echo(f"error: invalid {exc.kind} for task {exc.task_name}:", err=True)
    for error in exc.errors:
        location = ".".join(str(part) for part in error.get("loc", ())) or "(payload)"
        click.echo(f"  {location}: {error.get('msg')}", err=True)
    raise SystemExit(EXIT_USAGE)
