"""The daily report as data: what the JSON file holds and the e-mail shows."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Totals(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    succeeded: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)
    retried: int = Field(default=0, ge=0)
    dead_lettered: int = Field(default=0, ge=0)

    @property
    def events(self) -> int:
        return self.succeeded + self.failed + self.retried + self.dead_lettered


class TaskLine(BaseModel):
    """One task's outcomes and runtime percentiles (None when no sample)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    totals: Totals
    runtime_p50_ms: float | None = None
    runtime_p95_ms: float | None = None


class DailyReport(BaseModel):
    """The outcomes of one UTC day, for the JSON file, the HTML page and e-mail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date
    generated_at: datetime
    totals: Totals
    tasks: list[TaskLine]
    # Failed scheduled runs by schedule entry name.
    schedule_failures: dict[str, int] = Field(default_factory=dict)
