"""Worker processes for the benchmark: Celery or Dramatiq, started and stopped here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
READY_KEY = "bench:worker-ready"


class Worker:
    """One worker process with its log in a file; ready when `is_ready()` says so."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.command = command
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, is_ready: Callable[[], bool], timeout_s: float = 60) -> Worker:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[:3]} exited; see {self.log}")
            if is_ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"{self.command[:3]} not ready after {timeout_s} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def celery_worker(
    client: redis.Redis,
    env: dict[str, str],
    log: Path,
    queue: str,
    *args: str,
    profile_to: Path | None = None,
) -> Worker:
    """`celery -A bench.tasks worker`; ready when its worker_ready signal fired.

    With `profile_to`, the worker runs under cProfile and writes its stats there
    when it stops.
    """
    client.delete(READY_KEY)
    profiler = ["-m", "cProfile", "-o", str(profile_to)] if profile_to else []
    command = [
        sys.executable, *profiler, "-m", "celery", "-A", "bench.tasks", "worker",
        "--queues", queue, "--loglevel", "WARNING",
        "--without-mingle", "--without-gossip", "--without-heartbeat",
        "--hostname", f"bench-{time.monotonic_ns()}@%h",
        *args,
    ]  # fmt: skip
    return Worker(command, env, log).start(lambda: bool(client.exists(READY_KEY)))


def dramatiq_worker(env: dict[str, str], log: Path, queue: str, threads: int) -> Worker:
    """`dramatiq bench.dramatiq_actors` with one process of `threads` threads."""
    command = [
        sys.executable, "-m", "dramatiq", "bench.dramatiq_actors",
        "--processes", "1", "--threads", str(threads), "--queues", queue,
    ]  # fmt: skip
    log.write_text("")

    def ready() -> bool:
        return "ready for action" in log.read_text(errors="replace")

    return Worker(command, env, log).start(ready)


def wait_until(done: Callable[[], bool], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done after {timeout_s} s")
        time.sleep(0.005)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its descendants so far."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [
                    int(child) for child in (task / "children").read_text().split()
                ]
        except (OSError, IndexError, ValueError):
            continue
    return total
