"""`@typed_task`: declare a task from a function `(Payload) -> Result | None`.

Everything that can be checked is checked here, at import, so a wrong declaration
never reaches a worker: the function's shape, the task name, its queue and limits.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any, cast

from pydantic import BaseModel

from project.errors import DeclarationError
from project.queues import QUEUE_NAMES
from project.retry import DEFAULT_POLICY, RetryPolicy
from project.typed.registry import check_unique, register
from project.typed.secrets import secret_fields
from project.typed.task import P, R, TaskSpec, TypedCeleryTask, TypedTask

TASK_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+$")


def typed_task(
    *,
    name: str,
    queue: str = "default",
    soft_time_limit_s: float = 60.0,
    time_limit_s: float = 90.0,
    retry: RetryPolicy = DEFAULT_POLICY,
    app: Any = None,
) -> Callable[[Callable[[P], R]], TypedTask[P, R]]:
    """Declare a typed task.

    `name` is the stable name on the wire (`email.send`), independent of the
    module path, so code can move without breaking queued messages. The soft time
    limit raises SoftTimeLimitExceeded inside the task; the hard one kills it.
    `retry` says how often and after what waits a transient failure is tried
    again (project.retry; `NO_RETRY` for none).
    """
    _check_options(name, queue, soft_time_limit_s, time_limit_s)

    def decorate(fn: Callable[[P], R]) -> TypedTask[P, R]:
        parameter, payload_type, result_type = _inspect_function(name, fn)
        _refuse_secrets(name, payload_type, result_type)
        check_unique(name, fn)
        spec = TaskSpec(
            name=name,
            queue=queue,
            payload_type=payload_type,
            result_type=result_type,
            soft_time_limit_s=soft_time_limit_s,
            time_limit_s=time_limit_s,
            parameter=parameter,
            retry=retry,
        )
        typed: TypedTask[P, R] = TypedTask(fn, spec, None)
        typed.celery_task = _celery_task(app, typed)
        register(typed)
        return typed

    return decorate


def _celery_task(app: Any, typed: TypedTask[Any, Any]) -> Any:
    if app is None:
        from project import app as default_app

        app = default_app

    def run(self: TypedCeleryTask, *args: Any, **kwargs: Any) -> Any:
        return self.run_typed(args, kwargs)

    run.__name__ = typed.fn.__name__
    run.__doc__ = typed.fn.__doc__
    spec = typed.spec
    task = app.task(
        name=spec.name,
        base=TypedCeleryTask,
        bind=True,
        queue=spec.queue,
        soft_time_limit=spec.soft_time_limit_s,
        time_limit=spec.time_limit_s,
        # The policy decides every retry (project.typed.failure); this is
        # Celery's own backstop, in its terms: retries after the first attempt.
        max_retries=spec.retry.retries,
        # The message carries one JSON object; Celery's own signature check would
        # compare it against `run(*args, **kwargs)` and learn nothing.
        typing=False,
        typed=typed,
    )(run)
    return task


def _refuse_secrets(
    name: str, payload_type: type[BaseModel], result_type: type[BaseModel] | None
) -> None:
    for role, model in (("payload", payload_type), ("result", result_type)):
        if model is None:
            continue
        fields = secret_fields(model)
        if fields:
            raise DeclarationError(
                f"task {name!r}: the {role} model {model.__name__} has secret"
                f" field(s) {', '.join(fields)}; messages and results are stored in"
                " Redis and shown in Flower, so pass a reference to the secret (a key"
                " to look it up on the worker) instead"
            )


def _check_options(name: str, queue: str, soft_s: float, hard_s: float) -> None:
    if not TASK_NAME.match(name):
        raise DeclarationError(
            f"task name {name!r} is not a stable dotted name; use lower-case words"
            " joined by dots, domain first, such as 'email.send'"
        )
    if queue not in QUEUE_NAMES:
        raise DeclarationError(
            f"task {name!r} names queue {queue!r}, which is not declared; use one of"
            f" {sorted(QUEUE_NAMES)} or add it to project/queues.py"
        )
    if not 0 < soft_s < hard_s:
        raise DeclarationError(
            f"task {name!r}: soft_time_limit_s ({soft_s}) must be above 0 and below"
            f" time_limit_s ({hard_s}), so the task can clean up before it is killed"
        )


def _inspect_function(
    name: str, fn: Callable[..., Any]
) -> tuple[str, type[BaseModel], type[BaseModel] | None]:
    where = f"task {name!r} ({fn.__module__}.{fn.__qualname__})"
    fix = f"declare it as `def {fn.__name__}(payload: SomePayload) -> SomeResult:`"
    parameters = list(inspect.signature(fn).parameters.values())
    hints = typing.get_type_hints(fn)
    if len(parameters) != 1 or parameters[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        raise DeclarationError(
            f"{where} must take exactly one parameter, the payload model; it takes"
            f" {_describe_parameters(parameters)}. Fix: {fix}"
        )
    parameter = parameters[0].name
    payload_type = hints.get(parameter)
    if not _is_model(payload_type):
        raise DeclarationError(
            f"{where}: parameter {parameter!r} is annotated {_name(payload_type)},"
            f" not a pydantic model. Fix: annotate it with a BaseModel subclass; {fix}"
        )
    if "return" not in hints:
        raise DeclarationError(
            f"{where} has no return annotation. Fix: return a pydantic model and"
            " annotate it (`-> SomeResult`), or annotate `-> None`"
        )
    result_type = hints["return"]
    if result_type is type(None):
        result_type = None
    elif not _is_model(result_type):
        raise DeclarationError(
            f"{where} returns {_name(result_type)}, not a pydantic model. Fix:"
            " return a BaseModel subclass (wrap lists or scalars in a model),"
            " or annotate -> None"
        )
    return parameter, cast(type[BaseModel], payload_type), result_type


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _name(annotation: Any) -> str:
    if annotation is None:
        return "nothing"
    return getattr(annotation, "__name__", None) or repr(annotation)


def _describe_parameters(parameters: list[inspect.Parameter]) -> str:
    if not parameters:
        return "none"
    return ", ".join(str(parameter) for parameter in parameters)
