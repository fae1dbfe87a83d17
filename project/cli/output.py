"""Shared output helpers for the CLI: JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
import redis
from amqp.exceptions import AccessRefused  # type: ignore[import-untyped]
from kombu.exceptions import OperationalError

from project.errors import ValidationFailed
from project.health import location

# What Redis raises when it is down, slow or refuses the login (AuthenticationError
# is a ConnectionError).
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# What publishing raises when the broker cannot be reached or refuses the login.
BROKER_ERRORS = (OperationalError, AccessRefused, *REDIS_ERRORS, OSError)
# What any command may raise when a service is down: without OSError, which a
# missing file raises too.
SERVICE_ERRORS = (OperationalError, AccessRefused, *REDIS_ERRORS)

# Exit codes: 1 for a failure at run time, 2 for input that was refused.
EXIT_FAILED = 1
EXIT_USAGE = 2


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def first_lines(items: list[str], limit: int) -> str:
    """Up to `limit` items, one an indented line, and how many more there are."""
    shown = "".join(f"\n  {item}" for item in items[:limit])
    more = len(items) - limit
    return shown + (f"\n  ... and {more} more" if more > 0 else "")


def fail_validation(exc: ValidationFailed) -> NoReturn:
    click.echo(f"error: invalid {exc.kind} for task {exc.task_name}:", err=True)
    for error in exc.errors:
        location = ".".join(str(part) for part in error.get("loc", ())) or "(payload)"
        click.echo(f"  {location}: {error.get('msg')}", err=True)
    raise SystemExit(EXIT_USAGE)


def broker_address() -> str:
    """scheme://host:port of the broker, without user or password."""
    from project.settings import get_settings

    return location(get_settings().effective_broker_url)


def redis_address() -> str:
    """scheme://host:port of REDIS_URL, without user or password."""
    from project.settings import get_settings

    return location(get_settings().redis_url)


def _refused_login(exc: BaseException | None) -> bool:
    """True when `exc`, or an error it was raised from, is a refused login."""
    for _ in range(10):
        if exc is None:
            return False
        if isinstance(exc, AccessRefused | redis.exceptions.AuthenticationError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def service_error(exc: BaseException, variable: str | None = None) -> str:
    """One line on a service that is down or refused the login; no password.

    `variable` names the setting of the service (REDIS_URL or BROKER_URL); by
    default a Redis error is taken to be REDIS_URL's, any other the broker's.
    """
    if variable is None:
        redis_error = isinstance(exc, redis.exceptions.RedisError)
        variable = "REDIS_URL" if redis_error else "BROKER_URL"
    if variable == "REDIS_URL":
        service, address, parts = "Redis", redis_address(), "user name and password"
    else:
        service, address = "the broker", broker_address()
        parts = "user name, password and virtual host"
    if _refused_login(exc):
        return (
            f"{service} at {address} refused the credentials in {variable};"
            f" check the {parts} in it"
        )
    return (
        f"cannot reach {service} at {address} ({variable}): {type(exc).__name__};"
        " is it running? (`make run` starts a local stack)"
    )


@contextmanager
def service(variable: str) -> Iterator[None]:
    """Exit with one line, not a traceback, when the service at `variable` fails."""
    try:
        yield
    except BROKER_ERRORS as exc:
        fail(service_error(exc, variable))


class ServiceGroup(click.Group):
    """A group whose commands exit with one line when Redis or the broker is down.

    Every sub-command and sub-group runs inside `invoke`, so one handler here
    covers them all; `--help` and usage errors need no service at all.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SERVICE_ERRORS as exc:
            fail(service_error(exc))


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
        with service("REDIS_URL"):
            client.ping()
    finally:
        client.close()
    with service("BROKER_URL"), app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
