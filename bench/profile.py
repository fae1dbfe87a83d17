"""Where the typed layer spends its time, per call, producer and worker side."""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from typing import Any

from bench.tasks import noop_plain, noop_typed, sample_payload
from project.typed.redact import payload_repr

REPEAT = 2000


def _per_call_us(call: Callable[[], Any], repeat: int = REPEAT) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat * 1e6


def breakdown() -> dict[str, float]:
    """Microseconds per call of each step the typed layer adds to Celery's."""
    model = sample_payload(1)
    data = noop_typed.dump_payload(model)
    return {
        "producer: dump_payload (model_dump + re-validation)": _per_call_us(
            lambda: noop_typed.dump_payload(model)
        ),
        "producer: payload_repr (masked argsrepr)": _per_call_us(
            lambda: payload_repr(data)
        ),
        "worker: parse_payload (validation)": _per_call_us(
            lambda: noop_typed.parse_payload(data)
        ),
        "worker: dump_result (None result)": _per_call_us(
            lambda: noop_typed.dump_result(None)
        ),
    }


def delay_profile(count: int = 500) -> str:
    """The top functions by own time in a loop of typed `.delay()` calls."""
    models = [sample_payload(n) for n in range(count)]
    profiler = cProfile.Profile()
    profiler.enable()
    for model in models:
        noop_typed.delay(model)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    return out.getvalue()


def plain_vs_typed_us(count: int = 500) -> dict[str, float]:
    """CPU time per `.delay()`, plain and typed, measured back to back."""
    models = [sample_payload(n) for n in range(count)]
    dicts = [model.model_dump() for model in models]
    start = time.process_time()
    for data in dicts:
        noop_plain.delay(data)
    plain = time.process_time() - start
    start = time.process_time()
    for model in models:
        noop_typed.delay(model)
    typed = time.process_time() - start
    return {"celery_cpu_us": plain / count * 1e6, "typed_cpu_us": typed / count * 1e6}


# Steps of a task run on the worker, as (label, pattern in pstats' function key).
WORKER_STEPS = (
    ("whole task run (trace_task)", "celery/app/trace.py", "trace_task"),
    (
        "typed: slot claim (before_start)",
        "project/scheduling/slots.py",
        "claim_or_skip",
    ),
    ("typed: poison count (admit_run)", "project/typed/failure.py", "admit_run"),
    ("typed: validate, run, dump (execute)", "project/typed/task.py", "execute"),
    ("the no-op's own work (one INCR)", "bench/tasks.py", "mark_done"),
    ("result backend writes (store_result)", "celery/backends/base.py", "store_result"),
    ("task events (dispatcher.send)", "celery/events/dispatcher.py", "send"),
    ("task counters (stats.record_outcome)", "project/stats.py", "record_outcome"),
)


def worker_profile(
    client: Any, env: dict[str, str], logs: Any, count: int
) -> dict[str, dict[str, float]]:
    """Microseconds per task of each step, plain and typed no-op, under cProfile."""
    from bench.consume import SOLO, _drain, _push_celery
    from bench.processes import celery_worker

    found: dict[str, dict[str, float]] = {}
    for flavour, task_name in (
        ("celery", "bench.noop_plain"),
        ("typed", "bench.noop_typed"),
    ):
        stats_path = logs / f"profile-{flavour}.prof"
        worker = celery_worker(
            client, env, logs / f"profile-{flavour}.log", "default", *SOLO,
            profile_to=stats_path,
        )  # fmt: skip
        try:
            _drain(
                client, count, lambda name=task_name: _push_celery(client, name, count)
            )
        finally:
            worker.stop()
        found[flavour] = _per_task_steps(stats_path, count)
    return found


def _per_task_steps(path: Any, count: int) -> dict[str, float]:
    stats = pstats.Stats(str(path))
    table = stats.stats  # type: ignore[attr-defined]
    steps: dict[str, float] = {}
    for label, filename, function in WORKER_STEPS:
        total = sum(
            cumulative
            for (file, _, name), (_, _, _, cumulative, _) in table.items()
            if file.endswith(filename) and name == function
        )
        if total:
            steps[label] = total / count * 1e6
    return steps
