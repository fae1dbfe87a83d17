"""Shared output helpers for the CLI: JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click
import redis
from kombu.exceptions import OperationalError

from project.errors import ValidationFailed

# What publishing raises when the broker cannot be reached.
BROKER_ERRORS = (OperationalError, redis.exceptions.ConnectionError, OSError)

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


def broker_address() -> str:
    """scheme://host:port of the broker, without user or password."""
    from project.settings import get_settings

    parts = urlsplit(get_settings().effective_broker_url.split(";")[0])
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def require_services() -> None:
    """Exit with one line, not a traceback, when the broker or Redis is down.

    Celery would retry for about 20 s and then print a long traceback; a command
    line tool should say at once what is missing.
    """
    from project import app
    from project.settings import get_settings

    client = redis.Redis.from_url(
        get_settings().redis_url, socket_connect_timeout=2, socket_timeout=2
    )
    try:
        client.ping()
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except BROKER_ERRORS as exc:
        fail(
            f"cannot reach the broker or result backend ({broker_address()}):"
            f" {type(exc).__name__}; is it running? (`make run` starts a local stack)"
        )
    finally:
        client.close()
