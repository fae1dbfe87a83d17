"""`delay_many` end to end: a stock worker runs its messages as it runs `.delay()`s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from project.cli import main
from project.tasks.email import EmailJob, EmailResult, EmailTemplate, send_email
from project.typed.bulk import _message_spec, _publish_kombu
from tests.support.smtp import SmtpSink


def jobs(prefix: str, count: int) -> list[EmailJob]:
    return [
        EmailJob(
            user_id=f"{prefix}-{n}",
            email=f"{prefix}-{n}@example.com",
            template=EmailTemplate.WELCOME,
            name=f"User {n}",
        )
        for n in range(count)
    ]


def test_a_worker_runs_every_bulk_message(worker: Any, smtp: SmtpSink) -> None:
    # When 25 e-mails are enqueued in chunks of 10
    handles = send_email.delay_many(jobs("many", 25), chunk_size=10)

    # Then each task ran once, with the id the handle holds
    results = [handle.get(timeout=60) for handle in handles]
    assert all(isinstance(result, EmailResult) for result in results)
    for handle, result in zip(handles, results, strict=True):
        assert result.message_id.startswith(f"<{handle.id}@")
        assert handle.status == "SUCCESS"
    # and every message reached the SMTP server with its payload intact
    for n in range(25):
        [received] = smtp.wait_for(f"many-{n}@example.com")
        assert f"User {n}" in received.message.get_body().get_content()  # type: ignore[union-attr]


def test_bulk_and_single_results_read_the_same(worker: Any) -> None:
    [job] = jobs("same", 1)
    single = send_email.delay(job).get(timeout=60)
    [bulk] = send_email.delay_many([job])

    result = bulk.get(timeout=60)

    assert type(result) is type(single)
    assert result.template == single.template


def test_the_kombu_fallback_publishes_runnable_messages(worker: Any) -> None:
    # The path taken on brokers other than Redis, exercised here on Redis.
    data = [send_email.dump_payload(job) for job in jobs("fallback", 3)]
    spec = _message_spec(send_email, "email")

    task_ids = _publish_kombu(send_email, spec, data)

    results = [send_email.result(task_id).get(timeout=60) for task_id in task_ids]
    assert [r.message_id for r in results] == [
        f"<{task_id}@example.com>" for task_id in task_ids
    ]


def test_cli_sends_a_jsonl_file(worker: Any, smtp: SmtpSink, tmp_path: Path) -> None:
    path = tmp_path / "payloads.jsonl"
    path.write_text("".join(job.model_dump_json() + "\n" for job in jobs("file", 5)))

    outcome = CliRunner().invoke(main, ["send", "email.send", "--from-file", str(path)])

    assert outcome.exit_code == 0, outcome.output
    task_ids = outcome.stdout.split()
    assert len(task_ids) == 5
    assert "enqueued 5 email.send tasks" in outcome.stderr
    for task_id in task_ids:
        assert (
            send_email.result(task_id)
            .get(timeout=60)
            .message_id.startswith(f"<{task_id}@")
        )
    smtp.wait_for("file-4@example.com")
