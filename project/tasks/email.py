"""`email.send`: render a template and deliver it over SMTP."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from project.mail.address import EmailAddress, mask_address
from project.mail.render import render
from project.mail.send import build_message, send_message
from project.queues import EMAIL
from project.settings import get_settings
from project.typed import typed_task
from project.typed.context import task_context

logger = logging.getLogger(__name__)


class EmailTemplate(StrEnum):
    WELCOME = "welcome"
    RESET_PASSWORD = "reset-password"


class EmailJob(BaseModel):
    """One e-mail to one recipient, from one of the shipped templates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str = Field(min_length=1, max_length=200)
    email: EmailAddress
    template: EmailTemplate
    name: str | None = Field(default=None, max_length=200)
    reset_url: AnyHttpUrl | None = None

    @model_validator(mode="after")
    def _template_needs(self) -> EmailJob:
        if self.template is EmailTemplate.RESET_PASSWORD and self.reset_url is None:
            raise ValueError(
                "template 'reset-password' needs reset_url, the reset link"
            )
        if self.template is EmailTemplate.WELCOME and self.reset_url is not None:
            raise ValueError("template 'welcome' takes no reset_url")
        return self


class EmailResult(BaseModel):
    message_id: str
    template: EmailTemplate
    sent_at: datetime


@typed_task(name="email.send", queue=EMAIL.name, soft_time_limit_s=30, time_limit_s=45)
def send_email(job: EmailJob) -> EmailResult:
    """Render the job's template and send it to the job's address."""
    settings = get_settings()
    rendered = render(
        job.template.value,
        {
            "app_name": settings.app_name,
            "name": job.name,
            "reset_url": str(job.reset_url) if job.reset_url else None,
        },
    )
    context = task_context()
    domain = settings.mail_from.rpartition("@")[2]
    # Derived from the task id, so a second delivery of the same task produces the
    # same Message-ID and receiving systems can drop the duplicate.
    message_id = f"<{context.task_id}@{domain}>" if context.task_id else None
    message = build_message(
        rendered, sender=settings.mail_from, recipient=job.email, message_id=message_id
    )
    logger.info("Sending %s e-mail to %s", job.template.value, mask_address(job.email))
    send_message(message, settings)
    return EmailResult(
        message_id=str(message["Message-ID"]),
        template=job.template,
        sent_at=datetime.now(UTC),
    )
