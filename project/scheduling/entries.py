"""Typed schedule entries: what runs, when, in which zone, with which payload.

Every check runs when the entry is built, so a wrong entry in
`project/schedules.py` stops the import with a message naming the entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal

from project.errors import DeclarationError, ValidationFailed
from project.queues import QUEUE_NAMES
from project.scheduling.cron import check_cron, load_zone
from project.typed.task import P, TypedTask

# What to do with a slot that passed while no beat was running.
MissedPolicy = Literal["run_once", "skip"]
MISSED_POLICIES: tuple[MissedPolicy, ...] = ("run_once", "skip")

ENTRY_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")


@dataclass(frozen=True)
class ScheduleEntry(Generic[P]):
    """One schedule entry: `task` runs with `payload` at the slots of `cron`.

    `cron` has 5 fields and is read in `timezone` (an IANA name). `expires_s`
    bounds how late a fire may still run: a message older than that is dropped
    by the worker, so a stale catch-up run is not done twice.
    """

    name: str
    cron: str
    task: TypedTask[P, Any]
    payload: P
    timezone: str = "UTC"
    enabled: bool = True
    queue: str | None = None
    expires_s: float | None = 3600.0
    missed: MissedPolicy = "run_once"

    def __post_init__(self) -> None:
        for check in (
            self._check_name,
            self._check_cron,
            self._check_zone,
            self._check_payload,
            self._check_options,
        ):
            problem = check()
            if problem:
                raise DeclarationError(f"schedule entry {self.name!r}: {problem}")

    @property
    def target_queue(self) -> str:
        return self.queue or self.task.spec.queue

    def payload_json(self) -> dict[str, Any]:
        data: dict[str, Any] = self.task.dump_payload(self.payload)
        return data

    def message_options(self) -> dict[str, Any]:
        """Options for the task message of each fire."""
        options: dict[str, Any] = {"queue": self.target_queue}
        if self.expires_s is not None:
            options["expires"] = self.expires_s
        return options

    # -- checks: each returns the problem, or None -----------------------------

    def _check_name(self) -> str | None:
        if ENTRY_NAME.match(self.name):
            return None
        return (
            "the name must be 1-80 lower-case letters, digits, '-', '_' or '.',"
            " starting with a letter or digit, such as 'daily-report'"
        )

    def _check_cron(self) -> str | None:
        try:
            object.__setattr__(self, "cron", check_cron(self.cron))
        except ValueError as exc:
            return str(exc)
        return None

    def _check_zone(self) -> str | None:
        try:
            load_zone(self.timezone)
        except ValueError as exc:
            return str(exc)
        return None

    def _check_payload(self) -> str | None:
        expected = self.task.payload_type
        if not isinstance(self.payload, expected):
            return (
                f"task {self.task.name!r} takes a {expected.__name__} payload, got"
                f" {type(self.payload).__name__}; build a {expected.__name__}"
            )
        try:
            self.task.dump_payload(self.payload)
        except ValidationFailed as exc:
            return str(exc)
        return None

    def _check_options(self) -> str | None:
        if self.queue is not None and self.queue not in QUEUE_NAMES:
            known = sorted(QUEUE_NAMES)
            return f"queue {self.queue!r} is not declared; use one of {known}"
        if self.expires_s is not None and self.expires_s <= 0:
            return "expires_s must be above 0 seconds, or None for no expiry"
        if self.missed not in MISSED_POLICIES:
            return f"missed must be one of {list(MISSED_POLICIES)}, got {self.missed!r}"
        return None


def declare_schedule(
    entries: Iterable[ScheduleEntry[Any]],
) -> dict[str, ScheduleEntry[Any]]:
    """The entries by name; a name used twice is a declaration error."""
    by_name: dict[str, ScheduleEntry[Any]] = {}
    for entry in entries:
        if entry.name in by_name:
            raise DeclarationError(
                f"schedule entry {entry.name!r} is declared twice; give each entry"
                " its own name"
            )
        by_name[entry.name] = entry
    return by_name
