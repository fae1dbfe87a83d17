"""`project schedules`: the table, add, remove and run."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from project.cli import main
from project.settings import get_settings


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_the_list_shows_both_entries_with_their_next_runs(
    app: Any, runner: CliRunner
) -> None:
    result = invoke(runner, "schedules", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    report = rows["daily-report"]
    assert report["cron"] == "0 0 * * *"
    assert report["description"] == "At 00:00"
    assert report["kind"] == "static"
    assert report["enabled"] is True
    assert len(report["next_runs"]) == 3
    assert len(report["next_runs_utc"]) == 3
    first = datetime.fromisoformat(report["next_runs_utc"][0])
    assert first > datetime.now(UTC)
    assert (first.hour, first.minute) == (0, 0)
    assert rows["cleanup"]["description"] == "At 02:00"
    table = invoke(runner, "schedules")
    assert "daily-report" in table.output
    assert "cleanup" in table.output


def test_add_shows_zones_and_remove_deletes(app: Any, runner: CliRunner) -> None:
    added = invoke(
        runner,
        "schedules", "add", "berlin-cleanup", "30 2 * * *", "maintenance.cleanup", "{}",
        "--tz", "Europe/Berlin",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    rows = {
        row["name"]: row
        for row in json.loads(invoke(runner, "schedules", "--json").output)
    }
    row = rows["berlin-cleanup"]
    assert row["kind"] == "dynamic"
    assert row["timezone"] == "Europe/Berlin"
    local = datetime.fromisoformat(row["next_runs"][0])
    utc = datetime.fromisoformat(row["next_runs_utc"][0])
    assert local == utc
    assert (local.hour, local.minute) == (2, 30)
    assert local.utcoffset() in {timedelta(hours=1), timedelta(hours=2)}
    removed = invoke(runner, "schedules", "remove", "berlin-cleanup")
    assert removed.exit_code == 0
    names = {
        row["name"] for row in json.loads(invoke(runner, "schedules", "--json").output)
    }
    assert "berlin-cleanup" not in names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad", "61 * * * *", "maintenance.cleanup", "{}"], "schedule entry 'bad'"),
        (["bad", "* * * * *", "no.such", "{}"], "no task is called 'no.such'"),
        (["bad", "* * * * *", "maintenance.cleanup", '{"x": 1}'], "invalid payload"),
        (["cleanup", "* * * * *", "maintenance.cleanup", "{}"], "is declared in"),
    ],
)
def test_add_refuses_bad_input_with_exit_code_2(
    app: Any, runner: CliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(main, ["schedules", "add", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_a_static_entry_cannot_be_removed_from_the_cli(
    app: Any, runner: CliRunner
) -> None:
    result = runner.invoke(main, ["schedules", "remove", "cleanup"])
    assert result.exit_code == 2
    assert "delete it from project/schedules.py" in result.output


def test_run_fires_the_report_now_and_it_is_written(
    app: Any,
    worker: Any,
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "reports_dir", tmp_path)
    monkeypatch.setattr(get_settings(), "report_recipients", [])
    result = invoke(runner, "schedules", "run", "daily-report")
    assert result.exit_code == 0, result.output
    task_id = result.output.strip()
    outcome = app.AsyncResult(task_id).get(timeout=60)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert outcome["day"] == yesterday
    deadline = time.monotonic() + 10
    while not (tmp_path / f"{yesterday}.html").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / f"{yesterday}.json").exists()
    assert (tmp_path / f"{yesterday}.html").exists()
    assert runner.invoke(main, ["schedules", "run", "nothing"]).exit_code == 2


def test_make_run_starts_beat_without_flags() -> None:
    from project.devstack.__main__ import processes

    commands = processes(get_settings())
    assert commands["beat"].endswith("-m celery -A project beat --loglevel INFO")
    assert "worker" in commands
