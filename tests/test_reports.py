"""`reports.daily` on a real worker: statistics in, JSON, HTML and e-mail out."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from project import stats
from project.reports.build import percentile
from project.settings import get_settings
from project.tasks.maintenance import CleanupJob, cleanup
from project.tasks.reports import DailyReportJob, daily_report
from tests.support.smtp import SmtpSink

DAY = date(2026, 11, 20)
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def report_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    settings = get_settings()
    monkeypatch.setattr(settings, "reports_dir", tmp_path / "reports")
    monkeypatch.setattr(settings, "report_recipients", ["ops@example.com"])
    return tmp_path / "reports"


def test_percentiles_are_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_the_report_of_a_given_day_is_written_and_mailed(
    worker: Any, smtp: SmtpSink, report_settings: Path
) -> None:
    # Given the outcomes of one day: 20 runs of one task, 2 failures, 1 retry
    for ms in range(10, 210, 10):
        stats.record_outcome("demo.work", "succeeded", runtime_s=ms / 1000, at=AT)
    stats.record_outcome("demo.work", "failed", runtime_s=0.5, at=AT)
    stats.record_outcome("demo.work", "failed", at=AT)
    stats.record_outcome("demo.work", "retried", at=AT)
    stats.record_outcome("demo.other", "dead_lettered", at=AT)
    # When the report of that day runs on the worker
    result = daily_report.delay(DailyReportJob(day=DAY)).get(timeout=60)
    # Then the result gives both files and the totals
    assert result.day == DAY
    assert result.totals.succeeded == 20
    assert result.totals.failed == 2
    assert result.totals.retried == 1
    assert result.totals.dead_lettered == 1
    assert result.emails_enqueued == 1
    document = json.loads(Path(result.json_path).read_text())
    work = next(line for line in document["tasks"] if line["task"] == "demo.work")
    # 21 runtime samples: 10..200 ms and 500 ms
    assert work["runtime_p50_ms"] == 110.0
    assert work["runtime_p95_ms"] == 200.0
    html = Path(result.html_path).read_text()
    assert "<svg" in html
    assert "<script" not in html
    assert "demo.work" in html
    assert "<rect" in html
    assert Path(result.html_path).parent == report_settings.resolve()
    # And the recipient got the report through email.send
    message = smtp.wait_for("ops@example.com", timeout_s=30)[-1].message
    assert "2026-11-20" in str(message["Subject"])
    body = message.get_body(("plain",))
    assert body is not None
    assert "20 succeeded, 2 failed, 1 retried, 1 dead-lettered" in body.get_content()


def test_the_default_day_is_yesterday_and_no_recipients_means_no_mail(
    worker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "reports_dir", tmp_path)
    monkeypatch.setattr(settings, "report_recipients", [])
    result = daily_report.delay(DailyReportJob()).get(timeout=60)
    assert (datetime.now(UTC).date() - result.day).days == 1
    assert result.emails_enqueued == 0
    assert Path(result.json_path).name == f"{result.day.isoformat()}.json"


def test_the_worker_records_outcomes_with_runtimes(worker: Any) -> None:
    today = datetime.now(UTC).date()
    before = stats.read_day(today)
    done = before.counts.get("maintenance.cleanup", {}).get("succeeded", 0)
    samples = len(before.runtimes_ms.get("maintenance.cleanup", []))
    cleanup.delay(CleanupJob()).get(timeout=60)
    # The outcome is recorded just after the result is stored
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = stats.read_day(today)
        if after.counts.get("maintenance.cleanup", {}).get("succeeded", 0) > done:
            break
        time.sleep(0.05)
    assert after.counts["maintenance.cleanup"]["succeeded"] == done + 1
    assert len(after.runtimes_ms["maintenance.cleanup"]) == samples + 1
    assert after.runtimes_ms["maintenance.cleanup"][-1] >= 0
