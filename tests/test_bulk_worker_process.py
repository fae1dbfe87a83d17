"""A stock `celery worker` process runs delay_many's messages and `.delay()`'s alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from project.tasks.email import EmailJob, EmailTemplate, send_email
from tests.support.smtp import SmtpSink
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.slow


def test_a_worker_process_runs_bulk_and_single_messages(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    worker = WorkerProcess({}, tmp_path / "worker.log", "-P", "threads", "-Q", "email")
    worker.start(ready_timeout_s=60)
    try:
        jobs = [
            EmailJob(
                user_id=f"p{n}",
                email=f"process-{n}@example.com",
                template=EmailTemplate.WELCOME,
            )
            for n in range(4)
        ]
        handles = [send_email.delay(jobs[0]), *send_email.delay_many(jobs[1:])]

        results = [handle.get(timeout=60) for handle in handles]

        for handle, result in zip(handles, results, strict=True):
            assert result.message_id.startswith(f"<{handle.id}@")
        for n in range(4):
            smtp.wait_for(f"process-{n}@example.com")
        # The worker logged each task the same way, however it was enqueued.
        log = worker.log()
        assert log.count(handles[0].id) >= 2  # received, succeeded
        for handle in handles:
            assert log.count(handle.id) == log.count(handles[0].id), log[-2000:]
    finally:
        assert worker.stop() == 0
