"""SIGTERM while a worker sends an e-mail: nothing is lost.

The SMTP server here is slow on purpose (it waits before accepting DATA), so the
signal arrives while `email.send` is in the middle of its work.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller

from project.tasks.email import EmailJob, send_email
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.slow


class SlowSmtp:
    """Accepts each message `delay_s` after its DATA arrived."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.port = free_port()
        self.data_started = threading.Event()
        self.accepted: list[list[str]] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_started.set()
        await asyncio.sleep(self.delay_s)
        self.accepted.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


@pytest.fixture
def slow_smtp(request: pytest.FixtureRequest) -> Iterator[SlowSmtp]:
    server = SlowSmtp(delay_s=float(request.param))
    server.controller.start()
    yield server
    server.controller.stop()


def queue_is_empty(redis_url: str) -> bool:
    client = redis.Redis.from_url(redis_url)
    try:
        return client.llen("email") == 0 and client.hlen("unacked") == 0
    finally:
        client.close()


def send(address: str) -> Any:
    return send_email.delay(
        EmailJob(user_id="u-shutdown", email=address, template="welcome")
    )


@pytest.mark.parametrize("slow_smtp", [4.0], indirect=True)
def test_warm_shutdown_finishes_the_running_task(
    tmp_path: Path, slow_smtp: SlowSmtp, redis_url: str
) -> None:
    # Given a worker in the middle of sending an e-mail
    env = {"SMTP_PORT": str(slow_smtp.port)}
    worker = WorkerProcess(env, tmp_path / "w.log", "-P", "threads", "-c", "2")
    worker.start()
    address = f"warm.{uuid.uuid4().hex[:8]}@example.com"
    handle = send(address)
    assert slow_smtp.data_started.wait(30), worker.log()[-2000:]

    # When it gets SIGTERM (a warm shutdown)
    worker.signal(signal.SIGTERM)

    # Then it finishes the e-mail before it exits, and no message is left behind
    assert worker.stop(timeout_s=60) == 0
    assert slow_smtp.accepted == [[address]]
    assert handle.get(timeout=10).message_id
    assert queue_is_empty(redis_url)


@pytest.mark.parametrize("slow_smtp", [30.0], indirect=True)
def test_soft_shutdown_puts_an_unfinished_task_back(
    tmp_path: Path, slow_smtp: SlowSmtp, smtp: SmtpSink, redis_url: str
) -> None:
    # Given a worker started as docker/worker.sh starts it (SIGTERM -> cold
    # shutdown with a soft phase of 1 s), stuck in a 30 s SMTP conversation
    env = {
        "SMTP_PORT": str(slow_smtp.port),
        "REMAP_SIGTERM": "SIGQUIT",
        "WORKER_SOFT_SHUTDOWN_TIMEOUT_S": "1",
    }
    first = WorkerProcess(env, tmp_path / "first.log", "-P", "prefork", "-c", "1")
    first.start()
    address = f"soft.{uuid.uuid4().hex[:8]}@example.com"
    handle = send(address)
    assert slow_smtp.data_started.wait(30), first.log()[-2000:]

    # When it gets SIGTERM
    started = time.monotonic()
    first.signal(signal.SIGTERM)
    assert first.process is not None
    first.process.wait(timeout=60)
    stopped_after_s = time.monotonic() - started

    # Then it stops without waiting for the task...
    assert stopped_after_s < 20, first.log()[-3000:]
    assert "Initiating Soft Shutdown" in first.log()
    assert handle.status != "SUCCESS"
    # ...and the task is not lost: the next worker sends the e-mail
    second = WorkerProcess({}, tmp_path / "second.log", "-P", "threads", "-c", "2")
    second.start()
    try:
        smtp.wait_for(address, timeout_s=60)
        assert handle.get(timeout=30).message_id
    finally:
        assert second.stop() == 0
    assert queue_is_empty(redis_url)
