"""kill -9 of a worker's main process while one pool process runs a task: that
one ends as soon as its task is over, the idle one at once; neither waits for
the grace (project.orphans)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from project.orphans import orphan_grace_s
from tests.support.batch import Batch, LatentSmtp, wait_group_gone
from tests.support.redis_server import RedisServer
from tests.support.workers import ROOT, WorkerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

# Long enough to tell "after the task" from "at once", and the grace (60 s) from
# either.
TASK_S = 3.0
VISIBILITY_TIMEOUT_S = 120


@pytest.fixture
def smtp() -> Iterator[LatentSmtp]:
    server = LatentSmtp(latency_s=TASK_S).start()
    yield server
    server.stop()


def test_orphaned_pool_processes_end_with_the_task_at_hand(
    tmp_path: Path, redis_server: RedisServer, smtp: LatentSmtp
) -> None:
    env = {
        "REDIS_URL": redis_server.url,
        "APP_ENV": "test",
        "VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "SMTP_PORT": str(smtp.port),
        "PYTHONPATH": str(ROOT),
    }
    worker = WorkerProcess(env, tmp_path / "worker.log", "-c", "2").start()
    assert worker.process is not None
    group = worker.process.pid
    try:
        # Given a worker whose one pool process is sending an e-mail
        batch = Batch(redis_server.url, smtp, 1).publish()
        deadline = time.monotonic() + 30
        while "started email.send" not in worker.log():
            assert time.monotonic() < deadline, worker.log()[-3000:]
            time.sleep(0.05)

        # When its main process is killed
        os.kill(group, signal.SIGKILL)
        killed_at = time.monotonic()
        worker.process.wait(timeout=10)

        # Then both pool processes are gone soon after the task's end
        assert wait_group_gone(group, timeout_s=TASK_S + 5), "orphans outlived it"
        gone_after_s = time.monotonic() - killed_at
        assert gone_after_s < orphan_grace_s(VISIBILITY_TIMEOUT_S) / 2
        # ...and the task at hand was finished, not cut
        [(_, accepted_at)] = smtp.arrivals()
        assert accepted_at > killed_at
        assert batch.completed() == 1
        batch.close()
    finally:
        worker.process = None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
