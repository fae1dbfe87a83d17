"""Running a typed task inside a Flask application context.

Code shared with the web app often reaches for `current_app` (configuration,
extensions such as a database session). A worker has no request and no app
context, so such a task would fail with "Working outside of application context".
`in_app_context` gives each run a fresh context of one app built once per worker
process; put it under `@typed_task`, which still sees the function's types.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from flask import Flask

A = TypeVar("A")
B = TypeVar("B")


def in_app_context(
    get_app: Callable[[], Flask],
) -> Callable[[Callable[[A], B]], Callable[[A], B]]:
    """Run the decorated function inside `get_app().app_context()`."""

    def decorate(fn: Callable[[A], B]) -> Callable[[A], B]:
        @functools.wraps(fn)
        def run(payload: A) -> B:
            with get_app().app_context():
                return fn(payload)

        return run

    return decorate
