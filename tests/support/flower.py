"""`celery -A project flower` as a child process, configured by the repo's
flowerconfig.py exactly as a deployment is, and a small HTTP client for it."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.ports import free_port
from tests.support.workers import ROOT


class FlowerProcess:
    def __init__(
        self,
        folder: Path,
        env: Mapping[str, str],
        *args: str,
        address: str | None = "127.0.0.1",
    ) -> None:
        self.folder = folder
        self.port = free_port()
        self.env = {**os.environ, "FLOWER_CONF": str(ROOT / "flowerconfig.py"), **env}
        self.args = [f"--port={self.port}", *args]
        if address is not None:
            self.args.append(f"--address={address}")
        self.log_path = folder / "flower.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> FlowerProcess:
        command = [sys.executable, "-m", "celery", "-A", "project", "flower"]
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, *self.args],
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"flower exited:\n{self.log()[-3000:]}")
            if self.get("/healthcheck")[0] == 200:
                return self
            time.sleep(0.2)
        raise TimeoutError(f"flower not up after {timeout_s} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 30.0) -> int | None:
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        code = self.process.returncode
        self.process = None
        return code

    def request(
        self,
        path: str,
        *,
        auth: str | None = None,
        method: str = "GET",
        body: bytes | None = None,
    ) -> tuple[int, bytes]:
        headers = {}
        if auth is not None:
            token = base64.b64encode(auth.encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.url + path, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            return int(exc.code), bytes(exc.read())
        except OSError:
            return 0, b""

    def get(self, path: str, auth: str | None = None) -> tuple[int, bytes]:
        return self.request(path, auth=auth)

    def sees_task(self, task_id: str, auth: str, timeout_s: float = 3.0) -> bool:
        """Whether Flower has an event of the task within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.get(f"/api/task/info/{task_id}", auth)[0] == 200:
                return True
            time.sleep(0.2)
        return False

    def get_json(self, path: str, auth: str) -> Any:
        status, body = self.get(path, auth)
        assert status == 200, (status, body[:300])
        return json.loads(body)


def run_flower_until_exit(
    folder: Path, env: Mapping[str, str], *args: str, timeout_s: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run `celery -A project flower` expecting it to stop by itself (a refusal)."""
    full_env = {**os.environ, "FLOWER_CONF": str(ROOT / "flowerconfig.py"), **env}
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "project", "flower", *args],
        cwd=folder,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
