"""Worker-side figures: throughput on a no-op, end-to-end latency, an I/O queue."""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis

from bench import dramatiq_actors
from bench.processes import (
    Worker,
    celery_worker,
    cpu_seconds,
    dramatiq_worker,
    wait_until,
)
from bench.services import SlowSmtp
from bench.tasks import DONE_KEY, noop_plain, noop_typed, sample_payload
from project.tasks.email import EmailJob, EmailTemplate, send_email
from project.typed.envelope import MessageSpec, build_message

CELERY_NOOPS = {
    "celery": "bench.noop_plain",
    "celery_pydantic": "bench.noop_pydantic",
    "typed": "bench.noop_typed",
}
# One process, one thread for every flavour: the cost per task, not parallelism.
SOLO = ("--pool", "solo", "--prefetch-multiplier", "16")


def throughput(
    client: redis.Redis, env: dict[str, str], logs: Path, count: int, rounds: int
) -> dict[str, float]:
    """Tasks per second: the worker idles, the queue is filled in one push.

    Flavours take turns for `rounds` rounds; each reports its median round.
    """
    seen: dict[str, list[float]] = {}
    for _ in range(rounds):
        for key, rate in _throughput_round(client, env, logs, count):
            seen.setdefault(key, []).append(rate)
    return {key: statistics.median(rates) for key, rates in seen.items()}


def _throughput_round(
    client: redis.Redis, env: dict[str, str], logs: Path, count: int
) -> Iterator[tuple[str, float]]:
    for events in (False, True):
        flag = {"BENCH_EVENTS": "1" if events else "0"}
        for flavour, task_name in CELERY_NOOPS.items():
            key = f"{flavour}_events_{'on' if events else 'off'}"
            log = logs / f"{key}.log"
            worker = celery_worker(client, env | flag, log, "default", *SOLO)
            push = functools.partial(_push_celery, client, task_name, count)
            try:
                yield key, _drain(client, count, push)
            finally:
                worker.stop()
    worker = dramatiq_worker(env, logs / "dramatiq.log", "default", threads=1)
    payloads = [sample_payload(n).model_dump() for n in range(count)]
    try:
        yield (
            "dramatiq",
            _drain(
                client,
                count,
                lambda: dramatiq_actors.push(dramatiq_actors.noop, payloads),
            ),
        )
    finally:
        worker.stop()


def _push_celery(client: redis.Redis, task_name: str, count: int) -> None:
    spec = MessageSpec(task_name, "default", (None, None), False, "")
    messages = [
        build_message(spec, sample_payload(n).model_dump(mode="json"), "(...)", False)
        for n in range(count)
    ]
    client.lpush("default", *(item.message for item in messages))


def _drain(client: redis.Redis, count: int, push: Any) -> float:
    client.set(DONE_KEY, 0)
    start = time.perf_counter()
    push()
    wait_until(lambda: int(client.get(DONE_KEY) or 0) >= count)
    return count / (time.perf_counter() - start)


def latency(
    client: redis.Redis, env: dict[str, str], logs: Path, samples: int
) -> dict[str, dict[str, float]]:
    """Milliseconds from `.delay()` to the result in hand, one task at a time."""
    worker = celery_worker(
        client, env, logs / "latency.log", "default", "--pool", "solo"
    )
    calls = {
        "celery": lambda n: noop_plain.delay(sample_payload(n).model_dump()).get(10),
        "typed": lambda n: noop_typed.delay(sample_payload(n)).get(10),
    }
    timings: dict[str, list[float]] = {name: [] for name in calls}
    try:
        for number in range(samples + 10):
            # Alternating, so both see the same moments of a shared machine.
            for name, call in calls.items():
                start = time.perf_counter()
                call(number)
                if number >= 10:
                    timings[name].append((time.perf_counter() - start) * 1000)
    finally:
        worker.stop()
    return {name: _quantiles(values) for name, values in timings.items()}


def _quantiles(timings: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(timings, n=100)
    return {"p50_ms": cuts[49], "p99_ms": cuts[98]}


def io_queue(
    client: redis.Redis,
    env: dict[str, str],
    logs: Path,
    smtp: SlowSmtp,
    count: int,
    configured: tuple[str, int],
) -> dict[str, dict[str, float]]:
    """E-mails per second against an SMTP server that answers DATA after 50 ms,
    with the worker's CPU milliseconds per e-mail (what bounds a pool)."""
    pool, concurrency = configured
    jobs = [
        EmailJob(
            user_id=f"u{n}",
            email=f"bench-{n}@example.com",
            template=EmailTemplate.WELCOME,
        )
        for n in range(count)
    ]
    results = {}
    runs = {
        "celery_default_prefork": (),
        "typed_configured_pool": ("--pool", pool, "--concurrency", str(concurrency)),
    }
    for key, args in runs.items():
        worker = celery_worker(client, env, logs / f"io-{key}.log", "email", *args)
        try:
            results[key] = _mail_rate(
                smtp, count, worker, lambda: send_email.delay_many(jobs)
            )
        finally:
            worker.stop()
    worker = dramatiq_worker(
        env, logs / "io-dramatiq.log", "email", threads=concurrency
    )
    payloads = [job.model_dump(mode="json") for job in jobs]
    try:
        results["dramatiq_same_threads"] = _mail_rate(
            smtp,
            count,
            worker,
            lambda: dramatiq_actors.push(dramatiq_actors.send_email, payloads),
        )
    finally:
        worker.stop()
    return results


def _mail_rate(
    smtp: SlowSmtp, count: int, worker: Worker, push: Any
) -> dict[str, float]:
    assert worker.process is not None
    target = smtp.count + count
    cpu = cpu_seconds(worker.process.pid)
    start = time.perf_counter()
    push()
    wait_until(lambda: smtp.count >= target)
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(worker.process.pid) - cpu
    return {"per_s": count / elapsed, "worker_cpu_ms_each": cpu / count * 1000}
