"""What happens on the worker when a typed task fails: retry, or fail for good.

A failed attempt either retries (a transient error with attempts left: one
WARNING line, "retried") or fails for good: one ERROR line, a dead letter, and
the error callback if the producer attached one. Celery's own failure line is
demoted to INFO (`TypedCeleryTask.throws`), so the ERROR line here is the only
one per failed task.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from traceback import format_exception
from typing import TYPE_CHECKING, Any

from celery.exceptions import Reject
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from project.deadletter import DeadLetter, Reason, dead_letter_store
from project.errors import PayloadInvalid, ResultInvalid, WorkerLost
from project.logs import task_runtime_s
from project.poison import delivery_counter
from project.redis_client import KEY_PREFIX, redis_client
from project.retry import Verdict
from project.settings import get_settings
from project.stats import record_outcome

if TYPE_CHECKING:
    from project.typed.task import TypedCeleryTask

logger = logging.getLogger(__name__)

# Message headers that travel with a task and its retries.
ON_ERROR_HEADER = "project_on_error"
FIRST_FAILED_HEADER = "project_first_failed_at"

# `project:errback:<task id>`: set when the error callback of a task was sent, so a
# failure handled twice (a redelivered message) sends it once.
ERRBACK_SENT_PREFIX = f"{KEY_PREFIX}errback:"
_ERRBACK_SENT_TTL_S = 7 * 86400


class FailureRecord(BaseModel):
    """The payload of an error callback: a task that failed for good."""

    model_config = ConfigDict(frozen=True)

    task_name: str
    task_id: str
    payload: JsonValue = Field(description="The payload as the worker received it.")
    error_type: str
    error_message: str
    attempts: int = Field(ge=1)
    reason: str = Field(description="As in dead letters: retries-exhausted, ...")


def retry_or_give_up(
    task: TypedCeleryTask,
    exc: Exception,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> BaseException:
    """The exception to raise for a failed attempt: Celery's Retry, or `exc`.

    When the task fails for good, its dead letter is stored here, before Celery
    records the FAILURE, so whoever sees the failure also finds the dead letter.
    """
    policy = task.typed.spec.retry
    request = task.request
    attempt = int(request.retries or 0) + 1
    if policy.verdict(exc) is not Verdict.RETRY or attempt >= policy.attempts:
        trace = "".join(format_exception(exc))
        on_final_failure(task, str(request.id), exc, args, kwargs, trace)
        request.project_failure_handled = True
        return exc
    delay_s = policy.delay_s(attempt)
    logger.warning(
        "retried %s[%s] attempt=%d of %d delay=%.2fs error=%s: %s",
        task.name,
        request.id,
        attempt,
        policy.attempts,
        delay_s,
        type(exc).__name__,
        exc,
        extra={
            **_fields("retried", str(request.id), task.name, attempt, policy.attempts),
            "delay_s": round(delay_s, 3),
            "error_type": type(exc).__name__,
        },
    )
    headers = dict(request.headers or {})
    headers.setdefault(FIRST_FAILED_HEADER, _now().timestamp())
    try:
        retry: BaseException = task.retry(
            exc=exc,
            countdown=delay_s,
            max_retries=policy.retries,
            headers=headers,
            throw=False,
        )
    except Reject as not_sent:
        # Celery drops the message when the retry cannot be published (the
        # broker is down). Hand it back instead: it is delivered again later.
        logger.warning(
            "Task %s[%s]: the retry could not be published (%s); the message goes"
            " back to the broker",
            task.name,
            request.id,
            not_sent.reason,
        )
        handed_back: BaseException = Reject(not_sent.reason, requeue=True)
        return handed_back
    return retry


def admit_run(task: TypedCeleryTask) -> None:
    """Count a redelivered run of the message; WorkerLost if earlier runs used up
    the limit. A first delivery costs nothing (see project.poison)."""
    request = task.request
    if request.id is None or request.is_eager:
        return
    if not (request.delivery_info or {}).get("redelivered"):
        return
    delivery_counter().admit(task.name, str(request.id), int(request.retries or 0) + 1)


def on_celery_failure(
    task: TypedCeleryTask,
    task_id: str,
    exc: BaseException,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    traceback: str | None,
) -> None:
    """Celery's on_failure: handles what did not pass `retry_or_give_up` (a kill
    at the hard time limit, reported by the worker's main process)."""
    request = task.request
    if request.id == task_id and getattr(request, "project_failure_handled", False):
        return
    on_final_failure(task, task_id, exc, args, kwargs, traceback)


def on_final_failure(
    task: TypedCeleryTask,
    task_id: str,
    exc: BaseException,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    traceback: str | None,
) -> None:
    """Log the one ERROR line, store the dead letter, send the error callback.

    Runs in the pool process after the task raised, or in the worker's main
    process after a hard time limit killed it; there the request is not at hand,
    and the attempt is taken as the first.
    """
    request = task.request if task.request.id == task_id else None
    headers: dict[str, Any] = dict((request.headers if request else None) or {})
    attempts = int(request.retries or 0) + 1 if request else 1
    letter = _dead_letter(
        task, task_id, exc, args, kwargs, traceback, attempts, headers
    )
    runtime_s = task_runtime_s(task_id) or 0.0
    policy_attempts = task.typed.spec.retry.attempts
    logger.error(
        "failed %s[%s] attempt=%d of %d runtime=%.3fs reason=%s error=%s: %s",
        task.name,
        task_id,
        attempts,
        policy_attempts,
        runtime_s,
        letter.reason.value,
        letter.error_type,
        letter.error_message,
        extra={
            **_fields("failed", task_id, task.name, attempts, policy_attempts),
            "runtime_s": round(runtime_s, 6),
            "reason": letter.reason.value,
            "error_type": letter.error_type,
        },
    )
    dead_letter_store().add(letter)
    record_outcome(task.name, "dead_lettered")
    _send_error_callback(headers.get(ON_ERROR_HEADER), letter)


def reason_for(task: TypedCeleryTask, exc: BaseException) -> Reason:
    if isinstance(exc, WorkerLost):
        return Reason.WORKER_LOST
    if isinstance(exc, PayloadInvalid):
        return Reason.INVALID_PAYLOAD
    if isinstance(exc, ResultInvalid):
        return Reason.INVALID_RESULT
    if task.typed.spec.retry.verdict(exc) is Verdict.RETRY:
        return Reason.RETRIES_EXHAUSTED
    return Reason.PERMANENT_ERROR


def _dead_letter(
    task: TypedCeleryTask,
    task_id: str,
    exc: BaseException,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    traceback: str | None,
    attempts: int,
    headers: dict[str, Any],
) -> DeadLetter:
    now = _now()
    first = headers.get(FIRST_FAILED_HEADER)
    return DeadLetter(
        id=task_id,
        task=task.name,
        payload=_received_payload(task, args, kwargs),
        reason=reason_for(task, exc),
        error_type=type(exc).__name__,
        error_message=str(exc),
        traceback=traceback,
        attempts=attempts,
        first_failed_at=datetime.fromtimestamp(first, UTC) if first else now,
        last_failed_at=now,
    )


def _received_payload(
    task: TypedCeleryTask, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        return task.typed.payload_argument(tuple(args or ()), dict(kwargs or {}))
    except PayloadInvalid:
        # Not one payload object: keep the whole message body instead.
        return {"args": list(args or ()), "kwargs": dict(kwargs or {})}


def _send_error_callback(name: str | None, letter: DeadLetter) -> None:
    if not name:
        return
    client = redis_client(get_settings().redis_url)
    first = client.set(
        ERRBACK_SENT_PREFIX + letter.id, name, nx=True, ex=_ERRBACK_SENT_TTL_S
    )
    if not first:
        logger.info("Error callback %s of task %s was already sent", name, letter.id)
        return
    from project.typed.registry import get_task

    record = FailureRecord(
        task_name=letter.task,
        task_id=letter.id,
        payload=letter.payload,
        error_type=letter.error_type,
        error_message=letter.error_message,
        attempts=letter.attempts,
        reason=letter.reason.value,
    )
    get_task(name).delay(record)


def _fields(
    event: str, task_id: str, name: str, attempt: int, attempts: int
) -> dict[str, Any]:
    return {
        "event": event,
        "task_id": task_id,
        "task_name": name,
        "attempt": attempt,
        "attempts": attempts,
    }


def _now() -> datetime:
    return datetime.now(UTC)
