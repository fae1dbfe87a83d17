"""A stock `celery worker` process runs delay_many's messages and `.delay()`'s alike."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from project.tasks.email import EmailJob, EmailTemplate, send_email
from tests.support.smtp import SmtpSink
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.slow


def wait_for_log(worker: WorkerProcess, text: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in worker.log():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} not logged:\n{worker.log()[-2000:]}")
        time.sleep(0.05)


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
        # The worker logged each task the same way, however it was enqueued:
        # received, started, succeeded.
        for handle in handles:
            wait_for_log(worker, f"succeeded email.send[{handle.id}]")
        counts = {worker.log().count(handle.id) for handle in handles}
        assert len(counts) == 1
        assert counts.pop() >= 3
    finally:
        assert worker.stop() == 0
