"""SIGTERM of the worker during a batch: running tasks finish, the rest go back."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.batch import Batch, LatentSmtp, start_worker
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

BATCH = 500


@pytest.fixture
def smtp() -> Iterator[LatentSmtp]:
    server = LatentSmtp(latency_s=0.02).start()
    yield server
    server.stop()


def test_sigterm_during_a_batch_loses_nothing(
    tmp_path: Path, redis_server: RedisServer, smtp: LatentSmtp
) -> None:
    # Given a worker in the middle of a batch
    worker = start_worker(redis_server.url, smtp, tmp_path / "first.log")
    batch = Batch(redis_server.url, smtp, BATCH).publish()
    batch.wait_accepted(BATCH // 5)

    # When it gets SIGTERM, it finishes what runs and exits on its own
    worker.signal(signal.SIGTERM)
    assert worker.process is not None
    exit_code = worker.process.wait(timeout=60)
    worker.process = None
    accepted_at_exit = smtp.count()

    # ...and a new worker takes the rest
    second = start_worker(redis_server.url, smtp, tmp_path / "second.log")
    try:
        batch.wait_done(timeout_s=180)
    finally:
        second.stop()

    counts = batch.counts()
    ran_again = batch.runs_again(worker.log(), second.log())
    print(
        counts.report("sigterm"),
        f"(accepted when the first worker had exited: {accepted_at_exit};"
        f" run again: {ran_again})",
    )
    assert exit_code == 0
    assert accepted_at_exit < BATCH, "the signal came too late to test anything"
    assert counts.completed == BATCH
    assert counts.lost == 0
    assert counts.duplicated == 0
    # A warm shutdown lets every started task finish: none starts twice.
    assert ran_again == 0
    batch.close()
