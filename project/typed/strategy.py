"""The worker's message strategy for typed tasks: a malformed message fails alone.

Celery's default strategy raises ValueError or TypeError when a protocol-2 body is
not `[args, kwargs, embed]` (a JSON object, say), and the consumer treats that as
unrecoverable: the worker stops, the message goes back to the queue and stops the
next worker too. Here such a message is recorded as a failed task, with an error
that says what was wrong, and dropped; the worker goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import InvalidTaskError
from celery.worker.strategy import default

from project.errors import PayloadInvalid

logger = logging.getLogger(__name__)


def guarded(task: Any, app: Any, consumer: Any, **options: Any) -> Any:
    """Celery's default strategy, with malformed messages failed instead of fatal."""
    handle = default(task, app, consumer, **options)

    def on_message(message: Any, body: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return handle(message, body, *args, **kwargs)
        except (ValueError, TypeError, KeyError) as exc:
            _record_failure(task, message, exc)
            raise InvalidTaskError(
                f"malformed message for task {task.name}: {type(exc).__name__}"
            ) from exc

    return on_message


def _record_failure(task: Any, message: Any, exc: Exception) -> None:
    task_id = (getattr(message, "headers", None) or {}).get("id")
    if not task_id:
        return
    error = PayloadInvalid(
        task.name,
        [
            {
                "type": "message_shape",
                "loc": [],
                "msg": "the message body must be a JSON array [args, kwargs, embed]"
                f" (Celery protocol 2); reading it raised {type(exc).__name__}",
            }
        ],
    )
    try:
        task.backend.mark_as_failure(task_id, error)
    except Exception:
        logger.exception(
            "Could not record the failure of malformed message %s", task_id
        )
