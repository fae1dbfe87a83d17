"""Batches of `email.send` tasks against a Redis of their own, and their counts.

The crash tests start their own Redis (so that they can restart it and so that
nothing else shares its queues), their own SMTP server and their own `celery
worker` processes. The test process publishes through a Celery app bound to that
Redis, as any other producer would: the payload validated by the typed task, then
sent by name.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis
from aiosmtpd.controller import Controller
from celery import Celery

from project.celery_app import celery_config
from project.settings import load_settings
from project.tasks.email import EmailJob, send_email
from tests.support.ports import free_port
from tests.support.workers import ROOT, WorkerProcess

# Short, so that messages of a killed worker come back within seconds; above the
# 5 s that email.send may wait before its last retry, as start-up demands.
VISIBILITY_TIMEOUT_S = 8
ARTIFACTS = ROOT / "test-artifacts" / "crash"
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
STARTED = re.compile(r"started email\.send\[([0-9a-f-]+)\] attempt=1\b")


class LatentSmtp:
    """An SMTP server that takes `latency_s` to accept each message, as a remote
    one does, and notes when each Message-ID was accepted (monotonic clock)."""

    def __init__(self, latency_s: float = 0.02) -> None:
        self.latency_s = latency_s
        self.port = free_port()
        self.accepted: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.latency_s)
        found = MESSAGE_ID.search(envelope.content)
        message_id = found.group(1).decode() if found else "?"
        with self.lock:
            self.accepted.append((message_id, time.monotonic()))
        return "250 Message accepted"

    def start(self) -> LatentSmtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)

    def arrivals(self) -> list[tuple[str, float]]:
        with self.lock:
            return list(self.accepted)


@dataclass(frozen=True)
class Counts:
    """What became of a batch. A lost task never had its e-mail accepted."""

    sent: int
    completed: int
    lost: int
    duplicated: int

    def report(self, name: str) -> str:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"{name}.json").write_text(json.dumps(asdict(self)) + "\n")
        return (
            f"{name}: sent={self.sent} completed={self.completed}"
            f" lost={self.lost} duplicated={self.duplicated}"
        )


def start_worker(
    redis_url: str, smtp: LatentSmtp | None, log: Path, *args: str
) -> WorkerProcess:
    """A prefork worker with two processes on every queue."""
    env = {
        "REDIS_URL": redis_url,
        "APP_ENV": "test",
        "VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "PYTHONPATH": str(ROOT),
    }
    if smtp is not None:
        env["SMTP_PORT"] = str(smtp.port)
    return WorkerProcess(env, log, "-c", "2", *args).start()


def producer(redis_url: str) -> Celery:
    """A Celery app that publishes to, and reads results from, `redis_url`."""
    settings = load_settings(
        redis_url=redis_url, app_env="test", visibility_timeout_s=VISIBILITY_TIMEOUT_S
    )
    app = Celery("test-producer", set_as_current=False)
    app.conf.update(celery_config(settings))
    return app


class Batch:
    """`size` e-mails, published to the Redis at `redis_url`."""

    def __init__(self, redis_url: str, smtp: LatentSmtp, size: int) -> None:
        self.redis_url = redis_url
        self.smtp = smtp
        self.size = size
        self.app = producer(redis_url)
        self.ids: list[str] = []

    def publish(self) -> Batch:
        address = f"batch.{uuid.uuid4().hex[:8]}@example.com"
        for number in range(self.size):
            job = EmailJob(user_id=f"u-{number}", email=address, template="welcome")
            data = send_email.dump_payload(job)
            result = self.app.send_task(send_email.name, args=(data,), queue="email")
            self.ids.append(str(result.id))
        return self

    def wait_accepted(self, count: int, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.smtp.count() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.smtp.count()} of {count} e-mails arrived")
            time.sleep(0.01)

    def wait_done(self, timeout_s: float = 120.0) -> None:
        """Until every task succeeded and the broker holds none of its messages."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.completed() == self.size and self.broker_is_empty():
                return
            time.sleep(0.5)
        raise TimeoutError(
            f"{self.completed()} of {self.size} tasks completed, broker empty:"
            f" {self.broker_is_empty()}"
        )

    def completed(self) -> int:
        client = redis.Redis.from_url(self.redis_url)
        try:
            metas = client.mget([f"celery-task-meta-{i}" for i in self.ids])
        finally:
            client.close()
        return sum(
            1 for meta in metas if meta and json.loads(meta)["status"] == "SUCCESS"
        )

    def broker_is_empty(self) -> bool:
        client = redis.Redis.from_url(self.redis_url)
        try:
            return client.llen("email") == 0 and client.hlen("unacked") == 0
        finally:
            client.close()

    def per_message(self) -> Counter[str]:
        return Counter(message_id for message_id, _ in self.smtp.arrivals())

    def counts(self) -> Counts:
        per_message = self.per_message()
        expected = [f"<{task_id}@example.com>" for task_id in self.ids]
        return Counts(
            sent=len(self.ids),
            completed=self.completed(),
            lost=sum(1 for message_id in expected if per_message[message_id] == 0),
            duplicated=sum(count - 1 for count in per_message.values() if count > 1),
        )

    def runs_again(self, *logs: str) -> int:
        """Tasks of this batch whose first attempt started more than once, from
        the workers' `started` lines (project.logs)."""
        starts = Counter(STARTED.findall("\n".join(logs)))
        return sum(1 for task_id in self.ids if starts[task_id] > 1)

    def first_accepted(self, message_id: str) -> float:
        return min(at for found, at in self.smtp.arrivals() if found == message_id)

    def close(self) -> None:
        self.app.close()


def wait_group_gone(group: int, timeout_s: float) -> bool:
    """Wait until no process of the process group `group` is left."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
