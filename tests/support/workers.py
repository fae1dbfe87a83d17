"""Real workers: in a thread of the test process, or as `celery worker` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from celery.contrib.testing.worker import start_worker

from project.queues import QUEUE_NAMES

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def thread_worker(app: Any, *, concurrency: int = 4) -> Iterator[Any]:
    """A worker consuming every queue, in threads of this process."""
    with start_worker(
        app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        queues=sorted(QUEUE_NAMES),
        loglevel="WARNING",
        shutdown_timeout=20.0,
    ) as worker:
        yield worker


class WorkerProcess:
    """`celery -A project worker` as a child process, with its log in a file."""

    def __init__(self, env: Mapping[str, str], log_path: Path, *args: str) -> None:
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, ready_timeout_s: float = 30.0) -> WorkerProcess:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "project",
            "worker",
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            *self.args,
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=os.getcwd(),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(ready_timeout_s)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill_group(self) -> None:
        """SIGKILL the worker and its pool children, as an OOM kill or a crash would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout_s: float = 30.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        code = self.process.returncode
        self.process = None
        return code

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"worker exited with {self.process.returncode}:\n"
                    f"{self.log()[-3000:]}"
                )
            if " ready." in self.log():
                return
            time.sleep(0.1)
        raise TimeoutError(
            f"worker not ready after {timeout_s} s:\n{self.log()[-3000:]}"
        )
