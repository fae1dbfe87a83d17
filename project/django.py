"""`delay_on_commit`: enqueue a typed task only once the database transaction commits.

A task enqueued inside a transaction can start before the transaction commits
(the worker then misses the row it needs) or run for a transaction that rolls
back (a welcome e-mail for a user who does not exist). Django's
`transaction.on_commit` runs a callback after the commit, and never after a
rollback; this wraps it for typed tasks. Django is imported on first call, so the
core does not depend on it.
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import TYPE_CHECKING, Any

from project.typed.task import P, R

if TYPE_CHECKING:
    from project.typed.result import TypedResult
    from project.typed.task import TypedTask

logger = logging.getLogger(__name__)


def delay_on_commit(
    task: TypedTask[P, R],
    payload: P,
    *,
    using: str | None = None,
    **options: Any,
) -> TypedResult[R]:
    """Validate `payload` now; enqueue it when the current transaction commits.

    Returns the task's handle at once: its id is fixed now, so a response can
    carry it, and it reads PENDING until the task runs. Outside a transaction
    (autocommit) the task is enqueued immediately. `options` are those of
    `apply_async` (countdown, queue, ...); `using` names the database alias.
    """
    from django.db import transaction  # type: ignore[import-untyped]

    # An invalid payload fails the request that built it, not a commit hook.
    task.dump_payload(payload)
    task_id = str(options.pop("task_id", None) or uuid.uuid4())
    publish = functools.partial(_publish, task, payload, task_id, options)
    transaction.on_commit(publish, using=using)
    return task.result(task_id)


def _publish(
    task: TypedTask[Any, Any], payload: Any, task_id: str, options: dict[str, Any]
) -> None:
    try:
        task.apply_async(payload, task_id=task_id, **options)
    except Exception:
        # The transaction is committed already; say which task was lost.
        logger.exception(
            "Could not enqueue task %s[%s] after the commit", task.name, task_id
        )
        raise
