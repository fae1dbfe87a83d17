"""`make run`'s stack as the README uses it: started, first e-mail sent, Ctrl-C.

The stack gets a REDIS_URL on a free port where nothing answers, so it starts its
own Redis, as on a laptop without one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
READY_WITHIN_S = 120.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@dataclass
class Stack:
    process: subprocess.Popen[str]
    folder: Path
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no {text!r} in the stack's output:\n{self.output()}")

    def project(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "project", *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=150,
        )


def stack_env(**extra: str) -> dict[str, str]:
    """The environment of a stack that starts its own Redis on a free port."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLOWER_", "BROKER_", "SMTP_"))
    }
    env.update(
        {
            "APP_ENV": "development",
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(free_port()),
            "FLOWER_PORT": str(free_port()),
            "FLOWER_CONF": str(ROOT / "flowerconfig.py"),
            **extra,
        }
    )
    return env


def start_stack(folder: Path, env: dict[str, str]) -> Stack:
    process = subprocess.Popen(
        [sys.executable, "-m", "project.devstack"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    running = Stack(process, folder, env)
    reader = threading.Thread(target=_read, args=(running,), daemon=True)
    reader.start()
    return running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("devstack"), stack_env())
    try:
        yield running
    finally:
        if running.process.poll() is None:
            os.killpg(running.process.pid, signal.SIGKILL)
            running.process.wait(timeout=10)


def _read(stack: Stack) -> None:
    assert stack.process.stdout is not None
    for line in stack.process.stdout:
        stack.lines.append(line.rstrip("\n"))


def test_the_stack_says_when_it_is_ready_and_what_to_run(stack: Stack) -> None:
    stack.wait_for("Ready. ok: broker reachable", READY_WITHIN_S)

    output = stack.output()
    assert "Redis: starting one at redis://127.0.0.1:" in output
    assert "(made for this session; set FLOWER_BASIC_AUTH" in output
    assert "beat lock held by" in output
    assert ".venv/bin/project send email.send" in output
    assert (stack.folder / "var" / "redis").is_dir()


def test_the_readme_command_delivers_the_first_email(stack: Stack) -> None:
    stack.wait_for("Ready.", READY_WITHIN_S)
    payload = '{"user_id":"u-1","email":" New.User@Example.COM ","template":"welcome"}'

    sent = stack.project("send", "email.send", payload, "--wait")

    assert sent.returncode == 0, sent.stderr
    answer = json.loads(sent.stdout)
    assert answer["status"] == "SUCCESS"
    assert answer["result"]["message_id"].startswith(f"<{answer['task_id']}@")
    [stored] = (stack.folder / "var" / "mail").glob("*.eml")
    text = stored.read_text()
    assert "To: New.User@example.com" in text
    assert answer["result"]["message_id"] in text


def test_running_the_daily_report_entry_writes_a_report(stack: Stack) -> None:
    stack.wait_for("Ready.", READY_WITHIN_S)

    ran = stack.project("schedules", "run", "daily-report", "--wait")

    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)
    assert answer["status"] == "SUCCESS"
    reports = stack.folder / "var" / "reports"
    assert sorted(p.suffix for p in reports.iterdir()) == [".html", ".json"]


def test_a_second_make_run_in_the_same_folder_starts_nothing(stack: Stack) -> None:
    stack.wait_for("Ready.", READY_WITHIN_S)

    second = subprocess.run(
        [sys.executable, "-m", "project.devstack"],
        cwd=stack.folder,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # It uses the first one's Redis, and stops at the SMTP sink's port.
    assert second.returncode == 1, second.stdout
    port = stack.env["SMTP_PORT"]
    assert second.stderr == (
        f"make run: SMTP_PORT {port} is in use (is another make run up?);"
        " stop it or set SMTP_PORT to a free port\n"
    )
    assert "Ready." not in second.stdout


def test_ctrl_c_stops_every_process_and_exits_cleanly(stack: Stack) -> None:
    stack.wait_for("Ready.", READY_WITHIN_S)

    # A terminal's Ctrl-C signals the whole foreground process group.
    os.killpg(stack.process.pid, signal.SIGINT)
    returncode = stack.process.wait(timeout=60)

    assert returncode == 0, stack.output()
    assert "Stopped: every process of the stack has ended." in stack.output()
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(stack.process.pid, 0)
