"""The clock the scheduler reads, replaceable so tests can drive time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


_current: list[Clock] = [system_clock]


def now() -> datetime:
    """The current instant, aware and in UTC."""
    return _current[-1]()


@contextmanager
def using(clock: Clock) -> Iterator[None]:
    """Read time from `clock` inside the block (tests drive schedules with it)."""
    _current.append(clock)
    try:
        yield
    finally:
        _current.remove(clock)
