"""The project's exceptions, all under one root.

Exceptions raised on a worker travel to the caller through the JSON result backend
as `(type, module, args)`. Celery rebuilds them with `cls(*args)`, so every
exception here keeps its constructor arguments in `args` and those arguments are
plain JSON: the field errors of a rejected payload reach the caller intact.
"""

from __future__ import annotations

from typing import Any

FieldErrors = list[dict[str, Any]]


class ProjectError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigurationError(ProjectError):
    """A setting is missing or wrong; raised at start-up, before any work."""


class DeclarationError(ProjectError, TypeError):
    """A task, schedule entry or policy is declared wrongly; raised at import."""


class UnknownTaskError(ProjectError, LookupError):
    """No typed task is registered under the given name."""


class PermanentError(ProjectError):
    """Raised by a task when retrying cannot help: the task fails for good at once."""


class TransientError(ProjectError):
    """Raised by a task when a later attempt may succeed: the task is retried."""


class CallbackMismatch(ProjectError, TypeError):
    """A callback task cannot take what it would be given; nothing was published."""


class DelayTooLong(ProjectError, ValueError):
    """A countdown or ETA reaches the Redis visibility timeout: it would run twice."""


class WorkerLost(PermanentError):
    """A message was delivered too often without finishing, and is quarantined.

    Its runs killed their process or the whole worker (os._exit, a segfault, an
    OOM kill, kill -9), so it is stored as a dead letter instead of run again.
    """


class ValidationFailed(PermanentError):
    """A payload or result did not match its model. Carries pydantic's field errors.

    `errors` is the list pydantic gives (`loc`, `msg`, `type`, and `input` left
    out so that rejected values, which may be personal data, are not stored).
    """

    kind = "data"

    def __init__(self, task_name: str, errors: FieldErrors) -> None:
        super().__init__(task_name, errors)
        self.task_name = task_name
        self.errors = errors

    def __str__(self) -> str:
        details = "; ".join(_describe(error) for error in self.errors)
        return f"invalid {self.kind} for task {self.task_name}: {details}"


class PayloadInvalid(ValidationFailed):
    """The payload of a task did not match the task's payload model."""

    kind = "payload"


class DataInvalid(ValidationFailed):
    """A pydantic model built inside a task refused its data; a bug or bad data."""

    kind = "data inside the task"


class ResultInvalid(ValidationFailed):
    """The value a task returned did not match the task's result model."""

    kind = "result"


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ())) or "(root)"
    return f"{location}: {error.get('msg', 'invalid')}"
