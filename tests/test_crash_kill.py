"""kill -9 of the worker's main process during a batch of 500 e-mails.

Late acks keep every message in Redis until its task finished, so the messages
of the killed worker come back (after the visibility timeout) to the next one.
Celery's pool processes die with the main process (it sets PR_SET_PDEATHSIG), so
a task killed after the SMTP server accepted its e-mail runs again; its
idempotency record, written as soon as the server accepted, stops the second
send. The window left runs from the end of the e-mail's DATA to that record: the
server may accept a message whose sender has just died.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from project.orphans import orphan_grace_s
from tests.support.batch import (
    VISIBILITY_TIMEOUT_S,
    Batch,
    LatentSmtp,
    start_worker,
    wait_group_gone,
)
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

BATCH = 500
# The window of docs/FAILURES.md is the server's time to accept plus about a
# millisecond; this allows for the test's own threads being scheduled late.
WINDOW_S = 0.05


@pytest.fixture
def smtp() -> Iterator[LatentSmtp]:
    server = LatentSmtp(latency_s=0.02).start()
    yield server
    server.stop()


def test_kill_9_of_the_worker_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, redis_server: RedisServer, smtp: LatentSmtp
) -> None:
    # Given a worker that is working through a batch of 500 e-mails
    worker = start_worker(redis_server.url, smtp, tmp_path / "first.log")
    batch = Batch(redis_server.url, smtp, BATCH).publish()
    batch.wait_accepted(BATCH // 5)
    # (at a moment unrelated to any e-mail's acceptance)
    time.sleep(random.uniform(0, smtp.latency_s))

    # When its main process is killed with SIGKILL
    assert worker.process is not None
    group = worker.process.pid
    killed_at = time.monotonic()
    os.kill(group, signal.SIGKILL)
    worker.process.wait(timeout=10)
    worker.process = None
    accepted_before = smtp.count()
    # ...its pool processes finish the task at hand and end (project.orphans)
    grace_s = orphan_grace_s(VISIBILITY_TIMEOUT_S)
    assert wait_group_gone(group, timeout_s=grace_s + 5), "orphans outlived the grace"

    # ...and a new worker starts
    second = start_worker(redis_server.url, smtp, tmp_path / "second.log")
    try:
        batch.wait_done(timeout_s=180)
    finally:
        second.stop()

    # Then every task completed and none was lost
    counts = batch.counts()
    skipped = second.log().count("it was sent before")
    ran_again = batch.runs_again(worker.log(), second.log())
    print(
        counts.report("kill-9"),
        f"(accepted before the kill: {accepted_before}; run again:"
        f" {ran_again}; not sent again: {skipped})",
    )
    assert accepted_before < BATCH, "the kill came too late to test anything"
    assert counts.completed == BATCH
    assert counts.lost == 0
    # ...and no e-mail was sent twice, unless the kill fell inside its window: the
    # server was still accepting it (it accepts even when the client died while
    # waiting for the reply) or had just accepted it, before the record existed
    for message_id, count in batch.per_message().items():
        if count > 1:
            after_kill = batch.first_accepted(message_id) - killed_at
            window = (-WINDOW_S, smtp.latency_s + WINDOW_S)
            assert window[0] < after_kill < window[1], (message_id, after_kill)
    assert counts.duplicated <= 2, "at most one per pool process"
    # ...because every task that ran again found its record
    assert skipped == ran_again
    batch.close()
