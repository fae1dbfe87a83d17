"""The benchmark's table: figures, ratios to plain Celery, and the targets."""

from __future__ import annotations

import os
import platform
from typing import Any


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


Row = tuple[str, str, str, str, str]


def rows(results: dict[str, Any]) -> list[Row]:
    enqueue, through, lat, io = (
        results["enqueue_per_s"],
        results["throughput_per_s"],
        results["latency_ms"],
        results["io_emails_per_s"],
    )
    table: list[Row] = []
    base = enqueue["celery"]
    for key, label, target in (
        ("celery", "Celery `.delay()`", ""),
        ("celery_pydantic", "Celery `pydantic=True` `.delay()`", ""),
        ("typed", "typed `.delay()`", ">= 0.95"),
        ("typed_delay_many", "typed `delay_many`", ">= 10x typed `.delay()`"),
        ("dramatiq", "Dramatiq `.send()`", ""),
        ("redis_lpush", "raw Redis LPUSH (one per message)", ""),
    ):
        ratio = f"{enqueue[key] / base:.2f}"
        if key == "typed_delay_many":
            ratio += f" ({enqueue[key] / enqueue['typed']:.1f}x typed `.delay()`)"
        table.append(("enqueue, msg/s", label, f"{enqueue[key]:,.0f}", ratio, target))
    for events in ("off", "on"):
        base = through[f"celery_events_{events}"]
        for key, label in (
            ("celery", "Celery"),
            ("celery_pydantic", "Celery `pydantic=True`"),
            ("typed", "typed"),
        ):
            value = through[f"{key}_events_{events}"]
            target = ">= 0.95" if key == "typed" else ""
            table.append(
                (
                    f"no-op throughput, tasks/s, events {events}",
                    label,
                    f"{value:,.0f}",
                    f"{value / base:.2f}",
                    target,
                )
            )
    table.append(
        (
            "no-op throughput, tasks/s",
            "Dramatiq (1 process, 1 thread)",
            f"{through['dramatiq']:,.0f}",
            f"{through['dramatiq'] / through['celery_events_off']:.2f} (to events off)",
            "",
        )
    )
    for quantile in ("p50_ms", "p99_ms"):
        plain = lat["celery"][quantile]
        typed = lat["typed"][quantile]
        name = f"end-to-end latency {quantile[:3]}, ms"
        table.append((name, "Celery", f"{plain:.2f}", "1.00", ""))
        table.append((name, "typed", f"{typed:.2f}", f"{typed / plain:.2f}", ""))
    base = io["celery_default_prefork"]["per_s"]
    for key, label, target in (
        ("celery_default_prefork", "default prefork worker", ""),
        ("typed_configured_pool", results["io_configured_pool"], ">= 10x default"),
        ("dramatiq_same_threads", "Dramatiq, same thread count", ""),
    ):
        run = io[key]
        table.append(
            (
                "e-mail queue (50 ms SMTP), e-mails/s",
                f"{label}; worker CPU {run['worker_cpu_ms_each']:.1f} ms/e-mail",
                f"{run['per_s']:,.1f}",
                f"{run['per_s'] / base:.1f}x default",
                target,
            )
        )
    return table


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| measure | flavour | value | ratio to plain Celery | target |",
        "|---|---|---:|---:|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows(results)]
    info = results["machine"]
    lines.append("")
    lines.append(
        f"Machine: {info['cpus']} CPUs ({info['cpu_model']}), Python {info['python']},"
        f" load average at start {info['load_average_at_start']}."
    )
    return "\n".join(lines)


def profile_table(results: dict[str, Any]) -> str:
    """Where the typed layer's time goes: producer steps and worker steps."""
    lines = ["| typed layer, producer side | µs per call |", "|---|---:|"]
    lines += [
        f"| {step} | {value:.1f} |" for step, value in results["typed_cost_us"].items()
    ]
    worker = results["worker_profile_us"]
    lines += [
        "",
        "| worker side, per task, under cProfile (inflated) | Celery µs | typed µs |",
        "|---|---:|---:|",
    ]
    for step in results["worker_profile_steps"]:
        plain = worker["celery"].get(step)
        typed = worker["typed"].get(step)
        if plain is None and typed is None:
            continue
        lines.append(
            f"| {step} | {'-' if plain is None else f'{plain:.0f}'}"
            f" | {'-' if typed is None else f'{typed:.0f}'} |"
        )
    return "\n".join(lines)
