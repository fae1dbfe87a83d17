"""Task outcomes per UTC day, in Redis, for the daily report.

The worker records every task event (succeeded, failed, retried) from Celery's
signals; other code records further outcomes with `record_outcome`, such as
`dead_lettered`. Each event costs one round trip: a single pipeline.

Keys (one set of buckets per UTC day, removed by `maintenance.cleanup`):

- `project:stats:days`: a set of the days (`2026-12-03`) that have buckets.
- `project:stats:<day>:counts`: a hash, `<task>|<outcome>` -> count, and
  `schedule:<entry>|failed` -> failed scheduled runs of that entry.
- `project:stats:<day>:runtime:<task>`: a list of runtimes in milliseconds, the
  latest RUNTIME_SAMPLES_MAX kept.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import redis
from celery import signals

from project.scheduling.slots import ENTRY_HEADER, request_header
from project.settings import get_settings

logger = logging.getLogger(__name__)

Outcome = Literal["succeeded", "failed", "retried", "dead_lettered"]
OUTCOMES: tuple[Outcome, ...] = ("succeeded", "failed", "retried", "dead_lettered")

PREFIX = "project:stats:"
DAYS_KEY = PREFIX + "days"
RUNTIME_SAMPLES_MAX = 10_000
SCHEDULE_FIELD = "schedule:"


def counts_key(day: date) -> str:
    return f"{PREFIX}{day.isoformat()}:counts"


def runtime_key(day: date, task_name: str) -> str:
    return f"{PREFIX}{day.isoformat()}:runtime:{task_name}"


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, health_check_interval=30)


def client() -> redis.Redis:
    return _client(get_settings().redis_url)


def record_outcome(
    task_name: str,
    outcome: Outcome,
    *,
    runtime_s: float | None = None,
    schedule_entry: str | None = None,
    at: datetime | None = None,
) -> None:
    """Count one outcome of `task_name` in the bucket of the UTC day of `at`.

    One round trip. `runtime_s` adds a runtime sample; `schedule_entry` also
    counts a failed scheduled run of that entry. Never raises: statistics must
    not fail a task, so a Redis error is logged and the event is lost.
    """
    day = (at or datetime.now(UTC)).astimezone(UTC).date()
    counts = counts_key(day)
    try:
        with client().pipeline(transaction=False) as pipe:
            pipe.sadd(DAYS_KEY, day.isoformat())
            pipe.hincrby(counts, f"{task_name}|{outcome}", 1)
            if schedule_entry and outcome == "failed":
                pipe.hincrby(counts, f"{SCHEDULE_FIELD}{schedule_entry}|failed", 1)
            if runtime_s is not None:
                samples = runtime_key(day, task_name)
                pipe.rpush(samples, round(runtime_s * 1000, 3))
                pipe.ltrim(samples, -RUNTIME_SAMPLES_MAX, -1)
            pipe.execute()
    except redis.RedisError as exc:
        logger.warning(
            "Could not record outcome %s of task %s: %s", outcome, task_name, exc
        )


@dataclass
class DayStats:
    """What one day's buckets hold."""

    day: date
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    runtimes_ms: dict[str, list[float]] = field(default_factory=dict)
    schedule_failures: dict[str, int] = field(default_factory=dict)


def read_day(day: date) -> DayStats:
    """The counts and runtime samples of `day` (empty when nothing ran)."""
    stats = DayStats(day)
    for raw_field, raw_count in client().hgetall(counts_key(day)).items():
        name, _, outcome = _text(raw_field).rpartition("|")
        if name.startswith(SCHEDULE_FIELD):
            stats.schedule_failures[name.removeprefix(SCHEDULE_FIELD)] = int(raw_count)
            continue
        stats.counts.setdefault(name, {})[outcome] = int(raw_count)
    with client().pipeline(transaction=False) as pipe:
        for task_name in stats.counts:
            pipe.lrange(runtime_key(day, task_name), 0, -1)
        samples = pipe.execute()
    for task_name, values in zip(stats.counts, samples, strict=True):
        stats.runtimes_ms[task_name] = [float(value) for value in values]
    return stats


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def stored_days() -> list[date]:
    return sorted(date.fromisoformat(_text(raw)) for raw in client().smembers(DAYS_KEY))


def delete_day(day: date) -> None:
    """Remove every bucket of `day`."""
    pattern = f"{PREFIX}{day.isoformat()}:*"
    keys = list(client().scan_iter(match=pattern, count=500))
    with client().pipeline() as pipe:
        if keys:
            pipe.delete(*keys)
        pipe.srem(DAYS_KEY, day.isoformat())
        pipe.execute()


# -- the worker's task events ----------------------------------------------------

# Start times by task id, in this process only: the runtime of a failure or retry.
_started: dict[str, float] = {}


def _on_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.monotonic()


def _on_postrun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started.pop(task_id, None)


def _runtime(task_id: str | None) -> float | None:
    started = _started.get(task_id or "")
    return None if started is None else time.monotonic() - started


def _on_success(sender: Any = None, runtime: float | None = None, **_: Any) -> None:
    request = sender.request
    seconds = runtime if runtime is not None else _runtime(request.id)
    record_outcome(sender.name, "succeeded", runtime_s=seconds)


def _on_retry(sender: Any = None, request: Any = None, **_: Any) -> None:
    record_outcome(
        sender.name, "retried", runtime_s=_runtime(getattr(request, "id", None))
    )


def _on_failure(
    sender: Any = None, task_id: str | None = None, exception: Any = None, **_: Any
) -> None:
    entry = request_header(sender.request, ENTRY_HEADER)
    if entry:
        logger.error(
            "Scheduled run of entry %s failed: task %s[%s]: %s",
            entry,
            sender.name,
            task_id,
            type(exception).__name__,
        )
    record_outcome(
        sender.name,
        "failed",
        runtime_s=_runtime(task_id),
        schedule_entry=str(entry) if entry else None,
    )


signals.task_prerun.connect(_on_prerun, weak=False)
signals.task_postrun.connect(_on_postrun, weak=False)
signals.task_success.connect(_on_success, weak=False)
signals.task_retry.connect(_on_retry, weak=False)
signals.task_failure.connect(_on_failure, weak=False)
