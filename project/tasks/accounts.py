"""`accounts.handle_event`: react to account events by sending the right e-mail."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, RootModel

from project.mail.address import EmailAddress
from project.queues import DEFAULT
from project.tasks.email import EmailJob, EmailTemplate, send_email
from project.typed import typed_task


class Signup(BaseModel):
    type: Literal["signup"]
    user_id: str = Field(min_length=1)
    email: EmailAddress
    name: str | None = Field(default=None, max_length=200)


class PasswordResetRequested(BaseModel):
    type: Literal["password-reset-requested"]
    user_id: str = Field(min_length=1)
    email: EmailAddress
    reset_url: AnyHttpUrl


class AccountEvent(
    RootModel[Annotated[Signup | PasswordResetRequested, Field(discriminator="type")]]
):
    """An account event; the `type` field selects the variant."""


class AccountEventHandled(BaseModel):
    event_type: str
    email_task_id: str


@typed_task(
    name="accounts.handle_event",
    queue=DEFAULT.name,
    soft_time_limit_s=10,
    time_limit_s=20,
)
def handle_account_event(event: AccountEvent) -> AccountEventHandled:
    """Enqueue the e-mail that the event calls for."""
    match event.root:
        case Signup() as signup:
            job = EmailJob(
                user_id=signup.user_id,
                email=signup.email,
                template=EmailTemplate.WELCOME,
                name=signup.name,
            )
        case PasswordResetRequested() as reset:
            job = EmailJob(
                user_id=reset.user_id,
                email=reset.email,
                template=EmailTemplate.RESET_PASSWORD,
                reset_url=reset.reset_url,
            )
    handle = send_email.delay(job)
    return AccountEventHandled(event_type=event.root.type, email_task_id=handle.id)
