"""A typed task: one payload model in, one result model (or None) out.

`TypedTask[P, R]` wraps a Celery task. The producer side (`delay`, `apply_async`,
`delay_data`, `s`, `si`) takes a `P` and returns a `TypedResult[R]`; the worker side
validates what arrives, runs the function and validates what it returns. On the
wire the payload is a single JSON object, the only positional argument of a
Celery protocol-2 message, so any producer that speaks JSON can enqueue it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from celery import Task
from pydantic import BaseModel, ValidationError

from project.errors import CallbackMismatch, DataInvalid, DelayTooLong, PayloadInvalid
from project.retry import DEFAULT_POLICY, RetryPolicy
from project.typed import failure
from project.typed.contract import Contract, error, field_errors
from project.typed.redact import payload_repr

if TYPE_CHECKING:
    from project.typed.result import TypedResult

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel | None)
T_contra = TypeVar("T_contra", contravariant=True)


class Accepts(Protocol[T_contra]):
    """A typed task whose payload type accepts a `T_contra`: a callback's type.

    `on_success: Accepts[R]` lets mypy refuse a success callback whose payload
    model is not the result model of the task it follows.
    """

    @property
    def name(self) -> str: ...

    def dump_payload(self, payload: T_contra, /) -> Any: ...


PAYLOAD_KEYWORD = "payload"


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a task declares, besides its function."""

    name: str
    queue: str
    payload_type: type[BaseModel]
    result_type: type[BaseModel] | None
    soft_time_limit_s: float
    time_limit_s: float
    parameter: str
    retry: RetryPolicy = DEFAULT_POLICY


class TypedCeleryTask(Task):  # type: ignore[misc]
    """Base class of the Celery tasks behind typed tasks; holds the typed side.

    Its hooks carry the failure handling of `project.typed.failure`: a run is
    counted (poison messages), a failed attempt retries or fails for good, and a
    task that failed for good becomes a dead letter.
    """

    typed: TypedTask[Any, Any]
    # A malformed message fails alone instead of stopping the worker.
    Strategy = "project.typed.strategy:guarded"
    # Every failure is expected here: Celery logs it at INFO without a traceback,
    # and the one ERROR line of a failed task comes from project.typed.failure.
    throws = (Exception,)

    def before_start(self, task_id: str, args: Any, kwargs: Any) -> None:
        """Skip a second delivery of a schedule slot (raises Celery's Ignore)."""
        from project.scheduling.slots import claim_or_skip

        claim_or_skip(self.request)

    def run_typed(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Count the run, validate, run the function; retry or fail on an error."""
        try:
            failure.admit_run(self)
            return self.typed.execute(args, kwargs)
        except Exception as exc:
            raise failure.retry_or_give_up(self, exc, args, kwargs) from None

    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        traceback = str(einfo.traceback) if einfo is not None else None
        failure.on_celery_failure(self, task_id, exc, args, kwargs, traceback)


class TypedTask(Generic[P, R]):
    """A task whose payload and result are pydantic models. Made by `@typed_task`."""

    def __init__(self, fn: Callable[[P], R], spec: TaskSpec, celery_task: Any) -> None:
        self.fn = fn
        self.spec = spec
        self.contract = Contract(spec.name, spec.payload_type, spec.result_type)
        self.celery_task = celery_task
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def payload_type(self) -> type[P]:
        return cast(type[P], self.spec.payload_type)

    @property
    def result_type(self) -> type[BaseModel] | None:
        return self.spec.result_type

    def __repr__(self) -> str:
        result = self.result_type.__name__ if self.result_type else "None"
        return (
            f"<TypedTask {self.name} queue={self.spec.queue}"
            f" payload={self.payload_type.__name__} result={result}>"
        )

    def __call__(self, payload: P) -> R:
        """Run the function here, in this process, without a broker."""
        return self.fn(payload)

    # -- producing -----------------------------------------------------------

    def delay(self, payload: P) -> TypedResult[R]:
        """Validate the payload and enqueue it on the task's queue."""
        return self.apply_async(payload)

    def apply_async(
        self,
        payload: P,
        *,
        countdown: float | None = None,
        eta: datetime | None = None,
        expires: float | datetime | None = None,
        queue: str | None = None,
        priority: int | None = None,
        task_id: str | None = None,
        headers: Mapping[str, Any] | None = None,
        on_success: Accepts[R] | None = None,
        on_error: Accepts[failure.FailureRecord] | None = None,
    ) -> TypedResult[R]:
        """Like Celery's `apply_async`, with the payload model as the one argument.

        `on_success` is a typed task that gets the result model as its payload;
        `on_error` one that gets a FailureRecord once, after the last attempt
        failed. A callback of the wrong type raises CallbackMismatch (mypy
        refuses it too) and nothing is published.
        """
        from project.typed.result import TypedResult

        self._check_delay(countdown, eta)
        all_headers = dict(headers or {})
        if on_error is not None:
            all_headers[failure.ON_ERROR_HEADER] = self._error_callback(on_error)
        options = _options(
            countdown=countdown,
            eta=eta,
            expires=expires,
            queue=queue,
            priority=priority,
            task_id=task_id,
            headers=all_headers or None,
            link=self._success_callback(on_success),
        )
        data = self.dump_payload(payload)
        options.setdefault("argsrepr", payload_repr(data))
        return TypedResult(self.celery_task.apply_async(args=(data,), **options), self)

    def delay_data(
        self, data: Mapping[str, Any] | str | bytes, **options: Any
    ) -> TypedResult[R]:
        """Validate a mapping or a JSON document as the payload, then enqueue it.

        For input from outside Python's type system (a request body, the CLI).
        Raises PayloadInvalid, and publishes nothing, when validation fails.
        """
        return self.apply_async(self.parse_payload(data), **options)

    def delay_many(
        self, payloads: Iterable[P], *, queue: str | None = None, chunk_size: int = 500
    ) -> list[TypedResult[R]]:
        """Validate every payload, then enqueue them in chunks; see `typed.bulk`."""
        from project.typed.bulk import delay_many

        return delay_many(self, payloads, queue=queue, chunk_size=chunk_size)

    def s(self, payload: P | None = None, **options: Any) -> Any:
        """A Celery signature. Without a payload it takes the parent's result."""
        if payload is None:
            return self.celery_task.signature((), **options)
        data = self.dump_payload(payload)
        options.setdefault("argsrepr", payload_repr(data))
        return self.celery_task.signature((data,), **options)

    def si(self, payload: P, **options: Any) -> Any:
        """An immutable Celery signature: the parent's result is not passed in."""
        data = self.dump_payload(payload)
        options.setdefault("argsrepr", payload_repr(data))
        return self.celery_task.signature((data,), immutable=True, **options)

    # -- callbacks and delays ----------------------------------------------------

    def _success_callback(self, callback: Accepts[Any] | None) -> Any:
        if callback is None:
            return None
        target = _typed_callback(self.name, "on_success", callback)
        if self.result_type is None or not issubclass(
            self.result_type, target.payload_type
        ):
            given = self.result_type.__name__ if self.result_type else "no result"
            raise CallbackMismatch(
                f"on_success of task {self.name}: {target.name} takes"
                f" {target.payload_type.__name__}, but {self.name} gives {given}"
            )
        return target.s()

    def _error_callback(self, callback: Accepts[Any]) -> str:
        target = _typed_callback(self.name, "on_error", callback)
        if not issubclass(failure.FailureRecord, target.payload_type):
            raise CallbackMismatch(
                f"on_error of task {self.name}: {target.name} takes"
                f" {target.payload_type.__name__}; an error callback takes"
                " FailureRecord"
            )
        return target.name

    def _check_delay(self, countdown: float | None, eta: datetime | None) -> None:
        """Refuse a delay that reaches the Redis visibility timeout: it runs twice."""
        from project.celery_app import redis_visibility_timeout_s

        limit = redis_visibility_timeout_s(self.celery_task.app.conf)
        if limit is None or (countdown is None and eta is None):
            return
        delay_s = countdown if countdown is not None else 0.0
        if eta is not None:
            delay_s = (eta - datetime.now(UTC)).total_seconds()
        if delay_s >= limit:
            raise DelayTooLong(
                f"task {self.name}: a delay of {delay_s:g} s reaches the Redis"
                f" visibility timeout ({limit:g} s), so the message would be"
                " delivered twice; use a shorter delay, a schedule entry, or raise"
                " VISIBILITY_TIMEOUT_S"
            )

    def result(self, task_id: str) -> TypedResult[R]:
        """The typed handle of an earlier call, from its id."""
        from project.typed.result import TypedResult

        return TypedResult(self.celery_task.AsyncResult(task_id), self)

    # -- the contract (see project.typed.contract) -------------------------------

    def parse_payload(self, data: Mapping[str, Any] | str | bytes) -> P:
        """The payload model from JSON text or a JSON value, or PayloadInvalid."""
        return cast(P, self.contract.parse_data(data))

    def dump_payload(self, payload: P) -> Any:
        """The JSON form of a payload, checked to be one the worker will accept."""
        return self.contract.dump_payload(payload)

    def load_result(self, data: Any) -> R:
        """The result model from its stored JSON form, or ResultInvalid."""
        return cast(R, self.contract.load_result(data))

    def dump_result(self, result: Any) -> Any:
        """The JSON form of what the function returned, validated against the model."""
        return self.contract.dump_result(result)

    # -- consuming (on the worker) ---------------------------------------------

    def execute(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Validate the raw message arguments, run the function, return JSON."""
        payload = self.contract.parse_value(self.payload_argument(args, kwargs))
        try:
            result = self.fn(payload)
        except ValidationError as exc:
            # pydantic's own error cannot be rebuilt from the JSON result backend;
            # ours keeps the field errors for the caller.
            raise DataInvalid(self.name, field_errors(exc)) from exc
        return self.dump_result(result)

    def payload_argument(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The one payload object of a message's arguments, or PayloadInvalid."""
        if len(args) == 1 and not kwargs:
            return args[0]
        keywords = {PAYLOAD_KEYWORD, self.spec.parameter}
        if not args and len(kwargs) == 1 and next(iter(kwargs)) in keywords:
            return next(iter(kwargs.values()))
        raise PayloadInvalid(
            self.name,
            [
                error(
                    "payload_shape",
                    "expected exactly one payload object, as the only positional"
                    f" argument or as the keyword '{PAYLOAD_KEYWORD}'; got"
                    f" {len(args)} positional and {len(kwargs)} keyword arguments",
                )
            ],
        )


def _typed_callback(name: str, role: str, callback: Any) -> TypedTask[Any, Any]:
    if not isinstance(callback, TypedTask):
        raise CallbackMismatch(
            f"{role} of task {name} must be a typed task, got {type(callback).__name__}"
        )
    return callback


def _options(**options: Any) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}
