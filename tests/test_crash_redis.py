"""Redis restarts (AOF on) during a batch: the worker reconnects, nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.batch import Batch, LatentSmtp, start_worker
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

BATCH = 500


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=True).start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[LatentSmtp]:
    server = LatentSmtp(latency_s=0.02).start()
    yield server
    server.stop()


def test_a_redis_restart_loses_nothing_and_needs_no_worker_restart(
    tmp_path: Path, redis_server: RedisServer, smtp: LatentSmtp
) -> None:
    # Given a worker in the middle of a batch, on a Redis that writes an AOF
    worker = start_worker(redis_server.url, smtp, tmp_path / "worker.log")
    try:
        batch = Batch(redis_server.url, smtp, BATCH).publish()
        batch.wait_accepted(BATCH // 5)

        # When Redis restarts, from its AOF
        redis_server.restart()
        accepted_at_restart = smtp.count()

        # Then the same worker finishes the batch
        batch.wait_done(timeout_s=240)
        assert worker.process is not None
        assert worker.process.poll() is None, "the worker exited"
    finally:
        worker.stop()

    counts = batch.counts()
    print(
        counts.report("redis-restart"),
        f"(accepted before the restart: {accepted_at_restart};"
        f" run again: {batch.runs_again(worker.log())})",
    )
    assert accepted_at_restart < BATCH, "the restart came too late to test anything"
    assert counts.completed == BATCH
    assert counts.lost == 0
    assert counts.duplicated == 0
    assert "Connection to broker lost" in worker.log() or "reconnect" in worker.log()
    batch.close()
