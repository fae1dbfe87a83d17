"""`reports.daily`: the outcomes of one UTC day as JSON, HTML and e-mail."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

# Imported for its signal handlers too: the worker records task outcomes.
from project import stats  # noqa: F401
from project.queues import REPORTS
from project.reports.build import build_report
from project.reports.model import Totals
from project.reports.render import write_report
from project.settings import get_settings
from project.tasks.email import EmailJob, EmailTemplate, send_email
from project.typed import typed_task

logger = logging.getLogger(__name__)


class DailyReportJob(BaseModel):
    """The day to report on (UTC); none: the day before today."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date | None = None


class DailyReportResult(BaseModel):
    day: date
    json_path: str
    html_path: str
    totals: Totals
    # How many `email.send` tasks were enqueued, one per recipient.
    emails_enqueued: int


@typed_task(
    name="reports.daily", queue=REPORTS.name, soft_time_limit_s=240, time_limit_s=300
)
def daily_report(job: DailyReportJob) -> DailyReportResult:
    """Write the report of one day under REPORTS_DIR and e-mail it."""
    settings = get_settings()
    day = job.day or (datetime.now(UTC).date() - timedelta(days=1))
    report = build_report(day)
    json_path, html_path = write_report(report, settings.reports_dir, settings.app_name)
    for recipient in settings.report_recipients:
        send_email.delay(
            EmailJob(
                user_id="daily-report",
                email=recipient,
                template=EmailTemplate.DAILY_REPORT,
                report=report,
            )
        )
    logger.info(
        "Wrote the report of %s (%d task events) to %s",
        day,
        report.totals.events,
        html_path.parent,
    )
    return DailyReportResult(
        day=day,
        json_path=str(json_path),
        html_path=str(html_path),
        totals=report.totals,
        emails_enqueued=len(settings.report_recipients),
    )
