"""The `project` command run as a user runs it, and what it published."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import redis


def project(
    *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m project ARGS` in this environment, with `env` added."""
    return subprocess.run(
        [sys.executable, "-m", "project", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **env},
        input=stdin,
    )


def empty_queue(redis_url: str, queue: str) -> Iterator[redis.Redis]:
    """A client of the broker whose `queue` is empty before and after a test."""
    client = redis.Redis.from_url(redis_url)
    client.delete(queue)
    yield client
    client.delete(queue)
    client.close()


def pushes(client: redis.Redis) -> int:
    """LPUSH calls the server has seen: what a publish does on Redis."""
    stats: dict[str, Any] = client.info("commandstats")
    return int(stats.get("cmdstat_lpush", {}).get("calls", 0))
