"""What a dead letter holds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class Reason(StrEnum):
    """Why a task failed for good."""

    # A transient error on every attempt of the task's retry policy.
    RETRIES_EXHAUSTED = "retries-exhausted"
    # An error that retrying cannot cure (PermanentError, SMTP 5xx, a bug).
    PERMANENT_ERROR = "permanent-error"
    INVALID_PAYLOAD = "invalid-payload"
    INVALID_RESULT = "invalid-result"
    # Delivered too often without finishing: its runs killed their process.
    WORKER_LOST = "worker-lost"


class DeadLetter(BaseModel):
    """A task that failed for good, with what it takes to understand and replay it."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="The task id.")
    task: str = Field(description="The task name, such as email.send.")
    payload: JsonValue = Field(description="The payload as the worker received it.")
    reason: Reason
    error_type: str
    error_message: str
    traceback: str | None = None
    attempts: int = Field(ge=1, description="Attempts run, the last one included.")
    first_failed_at: datetime
    last_failed_at: datetime
