"""The typed handle of an enqueued task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic

from project.typed.task import R

if TYPE_CHECKING:
    from project.typed.task import TypedTask


class TypedResult(Generic[R]):
    """Wraps Celery's AsyncResult; `get()` returns the result model, re-validated.

    A task that failed raises its error from `get()`: PayloadInvalid and
    ResultInvalid arrive with their field errors, rebuilt from the result backend.
    """

    __slots__ = ("async_result", "task")

    def __init__(self, async_result: Any, task: TypedTask[Any, R]) -> None:
        self.async_result = async_result
        self.task = task

    def __repr__(self) -> str:
        return f"<TypedResult {self.task.name}[{self.id}] {self.status}>"

    @property
    def id(self) -> str:
        return str(self.async_result.id)

    @property
    def status(self) -> str:
        """PENDING, STARTED, RETRY, SUCCESS or FAILURE (an unknown id reads PENDING)."""
        return str(self.async_result.status)

    def ready(self) -> bool:
        return bool(self.async_result.ready())

    def successful(self) -> bool:
        return bool(self.async_result.successful())

    def failed(self) -> bool:
        return bool(self.async_result.failed())

    def get(self, timeout: float | None = 30.0) -> R:
        """Wait for the task and return its result model.

        Raises celery.exceptions.TimeoutError after `timeout` seconds (None waits
        for ever), the task's own error if it failed, or ResultInvalid if the stored
        result no longer matches the result model.
        """
        raw = self.async_result.get(timeout=timeout, propagate=True)
        return self.task.load_result(raw)
