"""Typed tasks by name, for the CLI, schemas and health checks."""

from __future__ import annotations

import importlib
from typing import Any

from project.errors import DeclarationError, UnknownTaskError

_TASKS: dict[str, Any] = {}


def check_unique(name: str, fn: Any) -> None:
    """Refuse a second function under a name already taken (a module reload is fine)."""
    existing = _TASKS.get(name)
    where = f"{fn.__module__}.{fn.__qualname__}"
    if existing is not None and _where(existing) != where:
        raise DeclarationError(
            f"task name {name!r} is declared twice: by {_where(existing)} and by"
            f" {where}; give each task its own name"
        )


def register(task: Any) -> None:
    """Record a typed task under its name."""
    check_unique(task.name, task.fn)
    _TASKS[task.name] = task


def load_all() -> dict[str, Any]:
    """Import every task module of the app and return the typed tasks by name."""
    from project.celery_app import TASK_MODULES

    for module in TASK_MODULES:
        importlib.import_module(module)
    return dict(sorted(_TASKS.items()))


def get_task(name: str) -> Any:
    """The typed task called `name`; UnknownTaskError lists the known names."""
    tasks = load_all()
    try:
        return tasks[name]
    except KeyError:
        raise UnknownTaskError(
            f"no task is called {name!r}; known tasks: {', '.join(tasks) or 'none'}"
        ) from None


def _where(task: Any) -> str:
    return f"{task.fn.__module__}.{task.fn.__qualname__}"
