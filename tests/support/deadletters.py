"""Dead letters written straight into the store, as a failed task would leave them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from project.deadletter import DeadLetter, Reason, dead_letter_store


def stored(
    task_id: str,
    payload: dict[str, Any] | None = None,
    *,
    minutes_ago: float = 0,
    task: str = "email.send",
) -> DeadLetter:
    """Store a dead letter of `task` whose retries ran out; by default its payload
    is a welcome e-mail to an address of its own."""
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    if payload is None:
        address = f"stored.{uuid.uuid4().hex[:8]}@example.com"
        payload = {"user_id": "u-stored", "email": address, "template": "welcome"}
    letter = DeadLetter(
        id=task_id,
        task=task,
        payload=payload,
        reason=Reason.RETRIES_EXHAUSTED,
        error_type="SMTPRecipientsRefused",
        error_message="451 try later",
        attempts=3,
        first_failed_at=at,
        last_failed_at=at,
    )
    dead_letter_store().add(letter)
    return letter
