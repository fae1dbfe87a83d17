"""The typing contract, checked by `make typecheck` (mypy --strict), never run.

`assert_type` fails mypy if an inferred type drifts. The line marked
`type: ignore[arg-type]` must stay an error: with `warn_unused_ignores` (part of
--strict), mypy fails the build the day it stops reporting it.
"""

from __future__ import annotations

from typing import assert_type

from project.tasks.accounts import AccountEvent, AccountEventHandled, Signup
from project.tasks.email import EmailJob, EmailResult, send_email
from project.typed import TypedResult, TypedTask


def producer_side() -> None:
    job = EmailJob(user_id="u-1", email="a@example.com", template="welcome")

    handle = send_email.delay(job)
    assert_type(handle, TypedResult[EmailResult])
    assert_type(handle.get(timeout=5), EmailResult)
    assert_type(send_email.apply_async(job, countdown=5), TypedResult[EmailResult])
    assert_type(send_email.delay_data({"user_id": "u"}), TypedResult[EmailResult])
    assert_type(send_email, TypedTask[EmailJob, EmailResult])
    assert_type(send_email(job), EmailResult)

    signup = Signup(type="signup", user_id="u-1", email="a@example.com")
    send_email.delay(signup)  # type: ignore[arg-type]
    send_email.delay(AccountEvent(signup))  # type: ignore[arg-type]


def result_side(handle: TypedResult[AccountEventHandled]) -> str:
    result = handle.get()
    assert_type(result, AccountEventHandled)
    return result.email_task_id
