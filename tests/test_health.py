"""`project health`: the real command against the suite's Redis and real workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from project.tasks.email import EmailJob, send_email
from tests.support.ports import free_port
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.slow


def project_health(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "project", "health", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=90,
    )
    return done.returncode, done.stdout.strip() + done.stderr.strip()


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def worker_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A worker process; yields its hostname."""
    log = tmp_path_factory.mktemp("health") / "worker.log"
    hostname = f"health-{uuid.uuid4().hex[:6]}@{os.uname().nodename}"
    worker = WorkerProcess({}, log, "-P", "threads", "-c", "2", "-n", hostname)
    worker.start()
    yield hostname
    worker.stop()


def test_unreachable_broker_is_one_line_and_exit_1() -> None:
    port = free_port()
    url = f"redis://:hunter2-secret@127.0.0.1:{port}/0"

    code, out = project_health(env={"REDIS_URL": url})

    assert code == 1
    assert out.startswith(f"unhealthy: broker redis://127.0.0.1:{port} unreachable")
    assert "hunter2" not in out
    assert len(out.splitlines()) == 1


def test_no_worker_answering_is_unhealthy() -> None:
    code, out = project_health("--check", "workers", "--timeout", "1")

    assert (code, out) == (1, "unhealthy: no worker answered within 1 s")


def test_beat_required_but_absent_is_unhealthy() -> None:
    code, out = project_health("--check", "beat")

    assert (code, out) == (1, "unhealthy: beat: no beat holds the lock")


def test_beat_lock_gives_holder_and_last_tick_age(client: redis.Redis) -> None:
    from project import app

    # Written as RedBeat's leader does on each tick: its token, TTL = lock timeout.
    timeout_ms = int(app.conf.redbeat_lock_timeout * 1000)
    client.set("redbeat::lock", "5f2c9a7e-holder", px=timeout_ms - 3000)
    try:
        code, out = project_health("--check", "beat", "--json")
    finally:
        client.delete("redbeat::lock")

    assert code == 0, out
    beat = json.loads(out)["checks"]["beat"]
    assert beat["data"]["holder"] == "5f2c9a7e"
    assert 3 <= beat["data"]["last_tick_age_s"] < 30


def test_old_waiting_message_makes_the_queues_unhealthy(client: redis.Redis) -> None:
    # Runs before the module's worker starts: nothing consumes the message.
    job = EmailJob(user_id="u-health", email="h@example.com", template="welcome")
    send_email.apply_async(job, queue="maintenance")
    try:
        time.sleep(1.5)
        code, out = project_health("--check", "queues", "--max-wait", "1", "--json")
    finally:
        client.delete("maintenance")

    report = json.loads(out)
    assert code == 1
    assert report["reason"].startswith("unhealthy: queue maintenance has a message")
    queues = report["checks"]["queues"]["data"]
    assert queues["depths"]["maintenance"] >= 1
    assert queues["oldest_wait_s"]["maintenance"] >= 1


def test_healthy_with_a_worker(worker_process: str) -> None:
    code, out = project_health("--worker", worker_process)

    assert code == 0, out
    assert out.startswith("ok: broker reachable; 1 worker answering;")
    assert "queues default=0 email=0" in out


def test_named_worker_that_is_absent_fails(worker_process: str) -> None:
    code, out = project_health("--worker", "celery@nowhere", "--timeout", "1")

    assert (code, out) == (1, "unhealthy: worker celery@nowhere answered within 1 s")
