"""Logging for every process: configured once, when Celery asks for it.

Celery sends `setup_logging` when a worker or beat starts; a receiver of that
signal replaces Celery's own set-up, so nothing is configured at import time.
Each task event gets one line from the `project.task_events` logger:

    received email.send[5b0c...] attempt=1
    started email.send[5b0c...] attempt=1
    succeeded email.send[5b0c...] attempt=1 runtime=0.021s

The retried and failed lines come from the failure handling, under its own
logger. Every line, Celery's included, passes through `Redactor`: e-mail
addresses are masked, credentials in URLs and known secrets become `***`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import IO, Any
from urllib.parse import urlsplit

from celery import signals
from pythonjsonlogger.json import JsonFormatter

from project.mail.address import mask_addresses
from project.settings import Settings, get_settings

TASK_EVENTS = logging.getLogger("project.task_events")

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(processName)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s"

# scheme://user:password@ with the user part possibly empty (redis://:pw@host).
URL_CREDENTIALS = re.compile(
    # Anchored where a scheme can start, so a long run of letters stays linear.
    r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*+://[^:/@\s]*+):([^@\s/]++)@",
    re.I,
)

# Celery's own "received" and "succeeded" lines would repeat ours, and the latter
# prints the task's return value: they stay quiet below WARNING.
QUIETED = ("celery.app.trace", "celery.worker.strategy")


class Redactor:
    """Masks addresses and hides secrets in finished log lines."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants = set()
        for secret in secrets:
            if len(secret) >= 3:
                variants.add(secret)
                # The same secret as it appears inside a JSON string.
                variants.add(json.dumps(secret)[1:-1])
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted(variants, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        for secret in self.secrets:
            line = line.replace(secret, "***")
        line = URL_CREDENTIALS.sub(r"\1:***@", line)
        return mask_addresses(line)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold: passwords, also those inside URLs."""
    found = [settings.redis_url, settings.effective_broker_url]
    values = [urlsplit(url).password or "" for url in found]
    if settings.smtp_password is not None:
        values.append(settings.smtp_password.get_secret_value())
    if settings.flower_basic_auth is not None:
        entries = settings.flower_basic_auth.get_secret_value().split(",")
        values.extend(entry.partition(":")[2] for entry in entries)
    return [value for value in values if value]


class TextFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


class JsonLinesFormatter(JsonFormatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__(
            JSON_FIELDS,
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "processName": "process",
                "name": "logger",
            },
        )
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installs, so a second set-up replaces it."""


def configure_logging(
    settings: Settings, *, level: str | int | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every logger's records, redacted, to `stream` (stderr by default).

    `level` (from `celery worker --loglevel`) wins when more verbose than
    LOG_LEVEL. Handlers that others installed (pytest's, for one) stay.
    """
    redactor = Redactor(secrets_of(settings))
    handler = _OurHandler(stream or sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonLinesFormatter(redactor))
    else:
        handler.setFormatter(TextFormatter(redactor))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(_effective_level(settings.log_level, level))
    for name in QUIETED:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def _effective_level(configured: str, requested: str | int | None) -> int:
    levels = [logging.getLevelNamesMapping()[configured]]
    if isinstance(requested, int):
        levels.append(requested)
    elif isinstance(requested, str) and requested.upper() in (
        names := logging.getLevelNamesMapping()
    ):
        levels.append(names[requested.upper()])
    return min(levels)


# Task id -> monotonic start, in the process that runs the task.
_started: dict[str, float] = {}


def _on_setup_logging(loglevel: Any = None, logfile: Any = None, **_: Any) -> None:
    stream = open(logfile, "a", encoding="utf-8") if logfile else None  # noqa: SIM115
    configure_logging(get_settings(), level=loglevel, stream=stream)


def _fields(event: str, task_id: str, name: str, attempt: int) -> dict[str, Any]:
    return {"event": event, "task_id": task_id, "task_name": name, "attempt": attempt}


def _on_received(request: Any = None, **_: Any) -> None:
    if request is None:
        return
    attempt = int(request.request_dict.get("retries") or 0) + 1
    TASK_EVENTS.info(
        "received %s[%s] attempt=%d",
        request.name,
        request.id,
        attempt,
        extra=_fields("received", request.id, request.name, attempt),
    )


def _on_prerun(task_id: str = "", task: Any = None, **_: Any) -> None:
    _started[task_id] = time.monotonic()
    attempt = int(task.request.retries or 0) + 1
    TASK_EVENTS.info(
        "started %s[%s] attempt=%d",
        task.name,
        task_id,
        attempt,
        extra=_fields("started", task_id, task.name, attempt),
    )


def _on_success(sender: Any = None, **_: Any) -> None:
    task_id = str(sender.request.id)
    started = _started.pop(task_id, None)
    runtime_s = time.monotonic() - started if started is not None else 0.0
    attempt = int(sender.request.retries or 0) + 1
    TASK_EVENTS.info(
        "succeeded %s[%s] attempt=%d runtime=%.3fs",
        sender.name,
        task_id,
        attempt,
        runtime_s,
        extra={
            **_fields("succeeded", task_id, sender.name, attempt),
            "runtime_s": round(runtime_s, 6),
        },
    )


def _on_postrun(task_id: str = "", **_: Any) -> None:
    # A failed or retried task has no success event; forget its start here.
    _started.pop(task_id, None)


def task_runtime_s(task_id: str) -> float | None:
    """Seconds since the task started in this process, for the failure lines."""
    started = _started.get(task_id)
    return None if started is None else time.monotonic() - started


def connect_signals() -> None:
    """Connect the receivers; a second call changes nothing (dispatch_uid)."""
    signals.setup_logging.connect(_on_setup_logging, weak=False, dispatch_uid="logs")
    signals.task_received.connect(_on_received, weak=False, dispatch_uid="logs")
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="logs")
    signals.task_success.connect(_on_success, weak=False, dispatch_uid="logs")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="logs")
