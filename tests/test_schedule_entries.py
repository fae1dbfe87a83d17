"""Schedule entries are checked when declared; the two jobs of the design exist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from project.errors import DeclarationError
from project.scheduling.cron import ZonedCron
from project.scheduling.entries import ScheduleEntry, declare_schedule
from project.scheduling.timing import beat_timing_problem
from project.settings import load_settings
from project.tasks.email import EmailJob, EmailTemplate
from project.tasks.maintenance import CleanupJob, cleanup
from project.tasks.reports import DailyReportJob, daily_report


def test_the_declared_schedule_has_the_report_and_the_cleanup() -> None:
    from project.schedules import SCHEDULE

    assert {
        name: (e.cron, e.task.name, e.timezone) for name, e in SCHEDULE.items()
    } == {
        "daily-report": ("0 0 * * *", "reports.daily", "UTC"),
        "cleanup": ("0 2 * * *", "maintenance.cleanup", "UTC"),
    }
    assert SCHEDULE["daily-report"].target_queue == "reports"
    assert SCHEDULE["cleanup"].missed == "run_once"


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("61 * * * *", "is not valid"),
        ("0 2 * *", "has 4 fields; expected 5"),
        ("* * * * * */5", "has 6 fields; expected 5"),
        ("every day", "has 2 fields"),
    ],
)
def test_an_invalid_cron_names_the_entry(cron: str, message: str) -> None:
    with pytest.raises(DeclarationError) as caught:
        ScheduleEntry(name="nightly", cron=cron, task=cleanup, payload=CleanupJob())
    assert "schedule entry 'nightly'" in str(caught.value)
    assert message in str(caught.value)


def test_a_payload_of_the_wrong_type_names_the_entry_and_the_type() -> None:
    with pytest.raises(DeclarationError) as caught:
        # mypy refuses this already; the check is for code it does not see
        ScheduleEntry(  # type: ignore[misc]
            name="report",
            cron="0 0 * * *",
            task=daily_report,
            payload=CleanupJob(),
        )
    assert "schedule entry 'report'" in str(caught.value)
    assert "takes a DailyReportJob payload, got CleanupJob" in str(caught.value)


def test_an_unknown_time_zone_names_the_entry() -> None:
    with pytest.raises(
        DeclarationError, match="'report': unknown time zone 'Mars/Base'"
    ):
        ScheduleEntry(
            name="report",
            cron="0 0 * * *",
            task=daily_report,
            payload=DailyReportJob(),
            timezone="Mars/Base",
        )


def test_a_duplicate_name_is_refused() -> None:
    entry = ScheduleEntry(
        name="twice", cron="0 0 * * *", task=cleanup, payload=CleanupJob()
    )
    with pytest.raises(DeclarationError, match="'twice' is declared twice"):
        declare_schedule([entry, entry])


def test_bad_options_are_refused() -> None:
    with pytest.raises(DeclarationError, match="queue 'nowhere' is not declared"):
        ScheduleEntry(
            name="x",
            cron="0 0 * * *",
            task=cleanup,
            payload=CleanupJob(),
            queue="nowhere",
        )
    with pytest.raises(DeclarationError, match="expires_s must be above 0"):
        ScheduleEntry(
            name="x", cron="0 0 * * *", task=cleanup, payload=CleanupJob(), expires_s=0
        )


def test_utc_fires_exactly_on_the_cron_instants() -> None:
    cron = ZonedCron("0 2 * * *", "UTC")
    start = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    assert cron.upcoming(start, 2) == [
        datetime(2026, 12, 4, 2, 0, tzinfo=UTC),
        datetime(2026, 12, 5, 2, 0, tzinfo=UTC),
    ]
    assert cron.previous_at_or_before(start) == start


def test_beat_timings_that_break_takeover_or_the_lock_are_refused() -> None:
    assert beat_timing_problem(5, 20) is None
    assert "at most 30 s" in str(beat_timing_problem(5, 30))
    assert "at least 3 x BEAT_LOOP_INTERVAL_S" in str(beat_timing_problem(5, 10))
    from project.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="BEAT_LOCK_TIMEOUT_S"):
        load_settings(beat_lock_timeout_s=60)


def test_report_recipients_are_read_comma_separated() -> None:
    settings = load_settings(report_recipients="ops@example.com, Lead@Example.COM")
    assert settings.report_recipients == ["ops@example.com", "Lead@example.com"]
    from project.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="REPORT_RECIPIENTS"):
        load_settings(report_recipients="not-an-address")


def test_the_report_template_needs_a_report() -> None:
    with pytest.raises(ValueError, match="report is needed by template 'daily-report'"):
        EmailJob(
            user_id="u", email="ops@example.com", template=EmailTemplate.DAILY_REPORT
        )
