"""Building the daily report from one day's statistics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime

from project.reports.model import DailyReport, TaskLine, Totals
from project.stats import OUTCOMES, DayStats, read_day


def percentile(samples: Sequence[float], rank: float) -> float | None:
    """The nearest-rank percentile (`rank` in 0..100); None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    index = max(0, math.ceil(rank / 100 * len(ordered)) - 1)
    return ordered[index]


def totals_of(counts: dict[str, int]) -> Totals:
    return Totals(**{outcome: counts.get(outcome, 0) for outcome in OUTCOMES})


def report_from(stats: DayStats) -> DailyReport:
    lines = [
        TaskLine(
            task=task,
            totals=totals_of(counts),
            runtime_p50_ms=percentile(stats.runtimes_ms.get(task, []), 50),
            runtime_p95_ms=percentile(stats.runtimes_ms.get(task, []), 95),
        )
        for task, counts in sorted(stats.counts.items())
    ]
    overall: dict[str, int] = {
        outcome: sum(getattr(line.totals, outcome) for line in lines)
        for outcome in OUTCOMES
    }
    return DailyReport(
        day=stats.day,
        generated_at=datetime.now(UTC),
        totals=totals_of(overall),
        tasks=lines,
        schedule_failures=dict(sorted(stats.schedule_failures.items())),
    )


def build_report(day: date) -> DailyReport:
    return report_from(read_day(day))
