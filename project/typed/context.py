"""What a running task may want to know about its own execution."""

from __future__ import annotations

from dataclasses import dataclass

from celery import current_task


@dataclass(frozen=True, slots=True)
class TaskContext:
    task_id: str | None
    task_name: str | None
    # 1 on the first try; Celery's `retries` counts only the retries.
    attempt: int


def task_context() -> TaskContext:
    """The running task's id, name and attempt; all empty outside a worker."""
    request = getattr(current_task, "request", None)
    if request is None or request.id is None:
        return TaskContext(task_id=None, task_name=None, attempt=1)
    return TaskContext(
        task_id=str(request.id),
        task_name=str(request.task) if request.task else None,
        attempt=int(request.retries or 0) + 1,
    )
