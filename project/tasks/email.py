"""`email.send`: render a template and deliver it over SMTP."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from project.idempotency import UNREACHABLE, idempotency_records
from project.mail.address import EmailAddress, mask_address
from project.mail.render import render
from project.mail.send import build_message, send_message
from project.queues import EMAIL
from project.reports.model import DailyReport
from project.retry import RetryPolicy
from project.settings import get_settings
from project.typed import typed_task
from project.typed.context import task_context

logger = logging.getLogger(__name__)


class EmailTemplate(StrEnum):
    WELCOME = "welcome"
    RESET_PASSWORD = "reset-password"
    DAILY_REPORT = "daily-report"


class EmailJob(BaseModel):
    """One e-mail to one recipient, from one of the shipped templates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str = Field(min_length=1, max_length=200)
    email: EmailAddress
    template: EmailTemplate
    name: str | None = Field(default=None, max_length=200)
    reset_url: AnyHttpUrl | None = None
    report: DailyReport | None = None

    @model_validator(mode="after")
    def _template_needs(self) -> EmailJob:
        if self.template is EmailTemplate.RESET_PASSWORD and self.reset_url is None:
            raise ValueError(
                "template 'reset-password' needs reset_url, the reset link"
            )
        if self.template is EmailTemplate.WELCOME and self.reset_url is not None:
            raise ValueError("template 'welcome' takes no reset_url")
        if (self.template is EmailTemplate.DAILY_REPORT) != (self.report is not None):
            raise ValueError(
                "report is needed by template 'daily-report', and only by it"
            )
        return self


class EmailResult(BaseModel):
    message_id: str
    template: EmailTemplate
    sent_at: datetime


# Three attempts, waiting about 2 s and then about 4 s (each +-25 %, never under
# 1 s). SMTP 4xx replies and lost connections are retried, 5xx replies (a refused
# recipient) are not: project.retry.classify.
EMAIL_RETRY = RetryPolicy(
    attempts=3, base_delay_s=2.0, multiplier=2.0, max_delay_s=10.0, min_delay_s=1.0
)


@typed_task(
    name="email.send",
    queue=EMAIL.name,
    soft_time_limit_s=30,
    time_limit_s=45,
    retry=EMAIL_RETRY,
)
def send_email(job: EmailJob) -> EmailResult:
    """Render the job's template and send it to the job's address, once per task.

    An idempotency record per task id is checked before sending and written as
    soon as the SMTP server accepted the e-mail, so a redelivered task (its worker
    was killed after the e-mail went out) returns the first result instead of
    sending again. docs/FAILURES.md describes the window that remains.
    """
    task_id = task_context().task_id
    if task_id is None:
        return _send(job, None, on_sent=lambda result: None)
    records = idempotency_records()
    earlier = records.recall(send_email.name, task_id)
    if earlier is not None:
        logger.info(
            "Not sending %s e-mail of task %s again: it was sent before",
            job.template.value,
            task_id,
        )
        return EmailResult.model_validate_json(earlier)

    def remember(result: EmailResult) -> None:
        try:
            records.remember(send_email.name, task_id, result.model_dump_json())
        except UNREACHABLE:
            # The e-mail is out: failing (and retrying) now would send it again.
            logger.error(
                "E-mail of task %s was sent, but Redis did not take its idempotency"
                " record; a redelivery of this task would send it again",
                task_id,
            )

    return _send(job, task_id, on_sent=remember)


def _send(
    job: EmailJob, task_id: str | None, on_sent: Callable[[EmailResult], None]
) -> EmailResult:
    settings = get_settings()
    rendered = render(
        job.template.value,
        {
            "app_name": settings.app_name,
            "name": job.name,
            "reset_url": str(job.reset_url) if job.reset_url else None,
            "report": job.report,
        },
    )
    domain = settings.mail_from.rpartition("@")[2]
    # Derived from the task id, so a second delivery of the same task produces the
    # same Message-ID and receiving systems can drop the duplicate.
    message_id = f"<{task_id}@{domain}>" if task_id else None
    message = build_message(
        rendered, sender=settings.mail_from, recipient=job.email, message_id=message_id
    )
    logger.info("Sending %s e-mail to %s", job.template.value, mask_address(job.email))
    sent: list[EmailResult] = []

    def accepted() -> None:
        sent.append(
            EmailResult(
                message_id=str(message["Message-ID"]),
                template=job.template,
                sent_at=datetime.now(UTC),
            )
        )
        on_sent(sent[0])

    send_message(message, settings, on_accepted=accepted)
    return sent[0]
