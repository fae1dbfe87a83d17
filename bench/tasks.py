"""The tasks the benchmark runs, on the project's app: one near no-op per flavour.

Each no-op increments one Redis counter, the same work for every flavour
(Dramatiq's too), so the benchmark can tell when a batch is done. The worker
imports this module: `celery -A bench.tasks worker`.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import redis
from celery import signals
from pydantic import BaseModel

from project import app
from project.queues import DEFAULT
from project.typed import typed_task

DONE_KEY = "bench:done"

if os.environ.get("BENCH_EVENTS") == "0":
    # Celery's default; the project turns them on for Flower.
    app.conf.update(worker_send_task_events=False, task_send_sent_event=False)


class NoopPayload(BaseModel):
    user_id: str
    email: str
    count: int


@functools.cache
def counter() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def mark_done() -> None:
    counter().incr(DONE_KEY)


@app.task(name="bench.noop_plain", queue=DEFAULT.name)
def noop_plain(payload: dict[str, Any]) -> None:
    mark_done()


@app.task(name="bench.noop_pydantic", queue=DEFAULT.name, pydantic=True)
def noop_pydantic(payload: NoopPayload) -> None:
    mark_done()


@typed_task(name="bench.noop_typed", queue=DEFAULT.name)
def noop_typed(payload: NoopPayload) -> None:
    mark_done()


def sample_payload(number: int) -> NoopPayload:
    return NoopPayload(
        user_id=f"user-{number}", email="someone@example.com", count=number
    )


__all__ = ["app", "noop_plain", "noop_pydantic", "noop_typed"]


@signals.worker_ready.connect
def _announce_ready(**_: Any) -> None:
    # The benchmark waits for this key instead of parsing the worker's log.
    counter().set("bench:worker-ready", "1")
