"""Poison messages: a task that kills its process, or its whole worker, is run at
most POISON_MAX_DELIVERIES times, then kept as a dead letter with reason
worker-lost, while other tasks keep flowing."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import redis

from project.deadletter import DeadLetterStore, Reason
from tests.support.batch import producer, start_worker
from tests.support.fault_tasks import PREFIX
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

MAX_DELIVERIES = 3  # the default of POISON_MAX_DELIVERIES
INCLUDE = ("--include", "tests.support.fault_tasks")


def runs(client: redis.Redis, key: str) -> int:
    return int(client.get(PREFIX + "runs:" + key) or 0)


def status(client: redis.Redis, task_id: str) -> str | None:
    meta = client.get(f"celery-task-meta-{task_id}")
    return None if meta is None else str(json.loads(meta)["status"])


def wait_for(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise TimeoutError(what)


def test_a_task_that_kills_its_pool_process_is_quarantined(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    client = redis_server.client()
    app = producer(redis_server.url)
    worker = start_worker(redis_server.url, None, tmp_path / "worker.log", *INCLUDE)
    try:
        # Given a task whose every run kills the pool process that runs it
        key = uuid.uuid4().hex
        poison = app.send_task("faults.crash", args=({"key": key},), queue="default")
        # ...and healthy tasks sent at the same time
        healthy = [
            app.send_task("faults.flaky", args=({"key": f"{key}-{n}", "failures": 0},))
            for n in range(20)
        ]

        # When the worker works through them
        wait_for(
            lambda: status(client, poison.id) == "FAILURE",
            60,
            f"poison not quarantined; runs so far: {runs(client, key)}",
        )
        wait_for(
            lambda: all(status(client, h.id) == "SUCCESS" for h in healthy),
            60,
            "healthy tasks did not all succeed",
        )
    finally:
        worker.stop()

    # Then it ran exactly MAX_DELIVERIES times and became a dead letter
    assert runs(client, key) == MAX_DELIVERIES
    letter = DeadLetterStore(client, max_entries=100).get(poison.id)
    assert letter is not None
    assert letter.reason is Reason.WORKER_LOST
    assert letter.error_type == "WorkerLost"
    assert f"was delivered {MAX_DELIVERIES + 1} times" in letter.error_message
    assert letter.payload == {"key": key}
    assert letter.attempts == 1
    assert "failed faults.crash[" in worker.log()
    app.close()


def test_a_task_that_kills_its_whole_worker_is_quarantined(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    # Given a task whose every run kills the worker's main process
    client = redis_server.client()
    app = producer(redis_server.url)
    key = uuid.uuid4().hex
    poison = app.send_task("faults.kill_worker", args=({"key": key},), queue="default")

    # When a worker is started again each time it died (its message comes back
    # after the visibility timeout)
    for number in range(MAX_DELIVERIES + 1):
        log = tmp_path / f"worker-{number}.log"
        try:
            worker = start_worker(redis_server.url, None, log, *INCLUDE)
        except RuntimeError:
            continue  # killed by the task before it reported ready
        assert worker.process is not None
        deadline = time.monotonic() + 60
        while worker.process.poll() is None and status(client, poison.id) != "FAILURE":
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        worker.stop()
        if status(client, poison.id) == "FAILURE":
            break

    # Then it ran MAX_DELIVERIES times, and the next delivery stored it instead
    assert status(client, poison.id) == "FAILURE"
    assert runs(client, key) == MAX_DELIVERIES
    letter = DeadLetterStore(client, max_entries=100).get(poison.id)
    assert letter is not None
    assert letter.reason is Reason.WORKER_LOST
    app.close()


def test_a_task_killed_at_its_hard_time_limit_is_a_dead_letter(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    # Given a task that ignores its soft time limit (1 s) until the hard one (2 s)
    client = redis_server.client()
    app = producer(redis_server.url)
    worker = start_worker(redis_server.url, None, tmp_path / "worker.log", *INCLUDE)
    try:
        key = uuid.uuid4().hex
        hung = app.send_task("faults.hang", args=({"key": key},), queue="default")

        # When the worker kills it
        wait_for(lambda: status(client, hung.id) == "FAILURE", 30, "not killed")
        time.sleep(1)
    finally:
        worker.stop()

    # Then it ran once and its dead letter says why
    assert runs(client, key) == 1
    letter = DeadLetterStore(client, max_entries=100).get(hung.id)
    assert letter is not None
    assert letter.reason is Reason.PERMANENT_ERROR
    assert letter.error_type == "TimeLimitExceeded"
    app.close()
