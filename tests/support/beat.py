"""`celery -A project beat` as a child process, with its log in a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path


class BeatProcess:
    def __init__(self, log_path: Path, env: Mapping[str, str] | None = None) -> None:
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BeatProcess:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "project",
            "beat",
            "--loglevel",
            "INFO",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.log_path.parent,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    @property
    def leads(self) -> bool:
        return "beat: Acquired lock" in self.log()

    def kill(self) -> None:
        """SIGKILL: no lock release, no clean shutdown, as a crash or an OOM kill."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def wait_for(condition: object, timeout_s: float, what: str) -> float:
    """Poll `condition()` until true; the monotonic time it became true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return time.monotonic()
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen within {timeout_s} s")
