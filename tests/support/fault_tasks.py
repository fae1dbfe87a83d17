"""Typed tasks that fail on purpose, for the failure-handling tests.

They keep their counts in Redis, so a thread worker and a worker process report
the same way. Worker processes load this module with `--include`.
"""

from __future__ import annotations

import os
import signal
import smtplib
import time
from typing import Literal, cast

import redis
from celery.exceptions import SoftTimeLimitExceeded
from pydantic import BaseModel

from project.errors import PermanentError, TransientError
from project.retry import RetryPolicy
from project.settings import get_settings
from project.typed import typed_task
from project.typed.failure import FailureRecord

PREFIX = "test:faults:"

Failure = Literal["transient", "permanent", "bug", "smtp-4xx", "smtp-5xx", "declared"]

# Short waits so that tests finish quickly: about 0.2 s, then about 0.4 s.
FAST = RetryPolicy(
    attempts=3,
    base_delay_s=0.2,
    multiplier=2.0,
    max_delay_s=2.0,
    jitter=0.25,
    min_delay_s=0.1,
    retry_on=(LookupError,),
)


class Flaky(BaseModel):
    key: str
    # Attempts that fail before one succeeds (more than the policy allows: never).
    failures: int
    failure: Failure = "transient"


class FlakyDone(BaseModel):
    key: str
    attempts: int


class Crash(BaseModel):
    key: str


def client() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url)


def runs(key: str) -> int:
    return int(client().get(PREFIX + "runs:" + key) or 0)


def collected(key: str) -> list[str]:
    items = client().lrange(PREFIX + "collected:" + key, 0, -1)
    return [item.decode() if isinstance(item, bytes) else str(item) for item in items]


def _raise(failure: Failure, attempt: int) -> None:
    message = f"attempt {attempt} fails on purpose"
    match failure:
        case "transient":
            raise TransientError(message)
        case "permanent":
            raise PermanentError(message)
        case "bug":
            raise ZeroDivisionError(message)
        case "declared":
            raise KeyError(message)
        case "smtp-4xx":
            raise smtplib.SMTPResponseException(451, message)
        case "smtp-5xx":
            raise smtplib.SMTPResponseException(550, message)


@typed_task(name="faults.flaky", retry=FAST)
def flaky(payload: Flaky) -> FlakyDone:
    """Fail `failures` times (counted in Redis across processes), then succeed."""
    attempt = int(client().incr(PREFIX + "runs:" + payload.key))
    if attempt <= payload.failures:
        _raise(payload.failure, attempt)
    return FlakyDone(key=payload.key, attempts=attempt)


@typed_task(name="faults.crash")
def crash(payload: Crash) -> None:
    """Kill the pool process that runs it, as a segfault or an OOM kill would."""
    client().incr(PREFIX + "runs:" + payload.key)
    os._exit(1)


@typed_task(name="faults.collect_done")
def collect_done(payload: FlakyDone) -> None:
    """A success callback: records the result it was given."""
    client().rpush(PREFIX + "collected:" + payload.key, payload.model_dump_json())


@typed_task(name="faults.collect_failure")
def collect_failure(payload: FailureRecord) -> None:
    """An error callback: records the failure record it was given."""
    key = str(payload.payload["key"]) if isinstance(payload.payload, dict) else "?"
    client().rpush(PREFIX + "collected:" + key, payload.model_dump_json())


@typed_task(name="faults.bad_result")
def bad_result(payload: Crash) -> FlakyDone:
    """Return something that is not a FlakyDone: an invalid result."""
    return cast(FlakyDone, {"key": payload.key})


@typed_task(name="faults.kill_worker")
def kill_worker(payload: Crash) -> None:
    """Kill the worker's main process, as kill -9 or an OOM kill of it would."""
    client().incr(PREFIX + "runs:" + payload.key)
    os.kill(os.getppid(), signal.SIGKILL)
    # The pool process lives on for its grace (project.orphans); never finish.
    time.sleep(3600)


@typed_task(name="faults.hang", soft_time_limit_s=1, time_limit_s=2)
def hang(payload: Crash) -> None:
    """Ignore the soft time limit, so that the hard one kills the process."""
    client().incr(PREFIX + "runs:" + payload.key)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            time.sleep(0.1)
        except SoftTimeLimitExceeded:
            continue
