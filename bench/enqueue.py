"""Enqueue rate: messages per second, no worker running, one Redis."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import redis

from bench import dramatiq_actors
from bench.tasks import noop_plain, noop_pydantic, noop_typed, sample_payload
from project.typed.envelope import MessageSpec, build_message

WARM_UP = 20


def _rate(send: Callable[[int], Any], count: int) -> float:
    for number in range(WARM_UP):
        send(number)
    start = time.perf_counter()
    for number in range(count):
        send(number)
    return count / (time.perf_counter() - start)


def enqueue_rates(
    client: redis.Redis, count: int, bulk_count: int, rounds: int
) -> dict[str, float]:
    """Messages per second for each way of enqueueing the same no-op.

    The flavours take turns for `rounds` short rounds, starting each round with
    a different one, and each reports its median round: on a shared machine,
    turns spread the disturbances over every flavour alike.
    """
    models = [sample_payload(n) for n in range(max(count, bulk_count) + WARM_UP)]
    dicts = [model.model_dump() for model in models]
    flavours: dict[str, Callable[[], float]] = {
        "celery": lambda: _rate(lambda n: noop_plain.delay(dicts[n]), count),
        "celery_pydantic": lambda: _rate(
            lambda n: noop_pydantic.delay(models[n]), count
        ),
        "typed": lambda: _rate(lambda n: noop_typed.delay(models[n]), count),
        "typed_delay_many": lambda: _bulk_rate(models[:bulk_count]),
        "dramatiq": lambda: _rate(lambda n: dramatiq_actors.noop.send(dicts[n]), count),
        "redis_lpush": lambda: _lpush_rate(client, dicts, count),
    }
    seen: dict[str, list[float]] = {name: [] for name in flavours}
    names = list(flavours)
    for turn in range(rounds):
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            seen[name].append(flavours[name]())
            client.flushdb()
    return {name: statistics.median(rates) for name, rates in seen.items()}


def _bulk_rate(models: list[Any]) -> float:
    noop_typed.delay_many(models[:WARM_UP])
    start = time.perf_counter()
    noop_typed.delay_many(models)
    return len(models) / (time.perf_counter() - start)


def _lpush_rate(client: redis.Redis, dicts: list[dict[str, Any]], count: int) -> float:
    # The limit: one LPUSH round trip per message of the same size, built beforehand.
    spec = MessageSpec("bench.noop_plain", "bench-raw", (None, None), False, "")
    messages = [build_message(spec, data, "(...)", False).message for data in dicts]
    return _rate(lambda n: client.lpush("bench-raw", messages[n]), count)
