"""RabbitMQ as the broker (results stay in Redis), when one is reachable.

Each module run gets vhosts of its own (created with rabbitmqctl), so parallel
runs never share a queue. The e-mail end-to-end tests and the retry tests run
again here, in a pytest of their own whose broker is RabbitMQ (TEST_BROKER_URL).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery

from project.celery_app import celery_config
from project.settings import load_settings
from tests.support.smtp import SmtpSink
from tests.support.workers import ROOT, WorkerProcess

pytestmark = pytest.mark.slow

HOST, PORT = "127.0.0.1", 5672
AMQP_USER = os.environ.get("TEST_AMQP_USER", "guest:guest")


def _unreachable_reason() -> str | None:
    try:
        with socket.create_connection((HOST, PORT), timeout=2):
            pass
    except OSError as exc:
        return f"no RabbitMQ on {HOST}:{PORT} ({exc.strerror})"
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed; it creates the test vhosts"
    return None


REASON = _unreachable_reason()
if REASON:
    pytest.skip(REASON, allow_module_level=True)


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        pytest.skip(f"rabbitmqctl {args[0]} failed: {done.stderr.strip()[:200]}")
    return done.stdout


def make_vhost() -> tuple[str, str]:
    """A fresh vhost and the broker URL for it."""
    vhost = f"project-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    user = AMQP_USER.partition(":")[0]
    rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    return vhost, f"amqp://{AMQP_USER}@{HOST}:{PORT}/{vhost}"


@pytest.fixture(scope="module")
def broker() -> Iterator[tuple[str, str]]:
    vhost, url = make_vhost()
    yield vhost, url
    rabbitmqctl("delete_vhost", vhost)


def project_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "project", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_worker(tmp_path: Path, env: dict[str, str]) -> WorkerProcess:
    worker = WorkerProcess(env, tmp_path / "worker.log", "-P", "threads", "-c", "4")
    return worker.start(ready_timeout_s=60)


def test_an_email_goes_through_rabbitmq(
    tmp_path: Path, broker: tuple[str, str], smtp: SmtpSink
) -> None:
    # Given a worker whose broker is RabbitMQ
    env = {"BROKER_URL": broker[1]}
    worker = run_worker(tmp_path, env)
    try:
        # When the CLI sends a welcome e-mail and waits for the result
        address = f"rabbit.{uuid.uuid4().hex[:8]}@example.com"
        payload = (
            f'{{"user_id": "u-amqp", "email": "{address}", "template": "welcome"}}'
        )
        done = project_cli("send", "email.send", payload, "--wait", env=env)

        # Then it succeeded, and the SMTP server has the message
        assert done.returncode == 0, done.stderr
        assert '"status": "SUCCESS"' in done.stdout
        smtp.wait_for(address)
        # ...and `project health` reads the queues through RabbitMQ
        health = project_cli("health", env=env)
        assert health.returncode == 0, health.stdout + health.stderr
        assert "queues default=0 email=0" in health.stdout
    finally:
        assert worker.stop() == 0


def test_quorum_queues_on_request(tmp_path: Path, smtp: SmtpSink) -> None:
    vhost, url = make_vhost()
    env = {"BROKER_URL": url, "AMQP_QUORUM_QUEUES": "true"}
    try:
        worker = run_worker(tmp_path, env)
        try:
            address = f"quorum.{uuid.uuid4().hex[:8]}@example.com"
            payload = (
                f'{{"user_id": "u-q", "email": "{address}", "template": "welcome"}}'
            )
            done = project_cli("send", "email.send", payload, "--wait", env=env)
            assert done.returncode == 0, done.stderr
            smtp.wait_for(address)
        finally:
            assert worker.stop() == 0
        listed = rabbitmqctl("list_queues", "-p", vhost, "name", "type", "-s")
        types = dict(line.split()[:2] for line in listed.splitlines() if line.strip())
        assert types["email"] == "quorum"
        assert types["default"] == "quorum"
    finally:
        rabbitmqctl("delete_vhost", vhost)


def run_suite_on(url: str, *files: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TEST_BROKER_URL": url}
    env.pop("BROKER_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=560,
    )


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "files",
    [
        ("tests/test_email_delivery.py",),
        ("tests/test_retry_worker.py",),
    ],
    ids=["email-end-to-end", "retries"],
)
def test_the_suite_passes_on_rabbitmq(
    broker: tuple[str, str], files: tuple[str, ...]
) -> None:
    missing = [name for name in files if not (ROOT / name).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not in this checkout")

    done = run_suite_on(broker[1], *files)

    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in summary
    assert "failed" not in summary
    # The run really used RabbitMQ: its worker declared the queues in our vhost.
    listed = rabbitmqctl("list_queues", "-p", broker[0], "name", "-s").split()
    assert "email" in listed


def test_a_poison_message_is_quarantined_on_rabbitmq(
    tmp_path: Path, broker: tuple[str, str], redis_url: str
) -> None:
    # RabbitMQ marks a requeued message as redelivered, as kombu's Redis restore
    # does: the poison counter relies on that mark (project/poison.py).
    from project.deadletter import DeadLetterStore, Reason
    from tests.support.fault_tasks import PREFIX

    env = {"BROKER_URL": broker[1], "PYTHONPATH": str(ROOT)}
    # Given a prefork worker on RabbitMQ, and a task whose every run kills the
    # pool process that runs it
    worker = WorkerProcess(
        env,
        tmp_path / "worker.log",
        "-c",
        "2",
        "--include",
        "tests.support.fault_tasks",
    ).start(ready_timeout_s=60)
    producer = Celery("rabbit-producer", set_as_current=False)
    producer.conf.update(celery_config(load_settings(broker_url=broker[1])))
    client = redis.Redis.from_url(redis_url)
    key = uuid.uuid4().hex
    try:
        poison = producer.send_task("faults.crash", args=({"key": key},))

        # When the worker works through its deliveries
        deadline = time.monotonic() + 90
        while poison.state != "FAILURE" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        assert worker.stop() == 0
        producer.close()

    # Then it ran POISON_MAX_DELIVERIES (3) times and became a dead letter
    assert int(client.get(PREFIX + "runs:" + key) or 0) == 3
    letter = DeadLetterStore(client, max_entries=100).get(poison.id)
    assert letter is not None
    assert letter.reason is Reason.WORKER_LOST
    client.close()
