"""What `make run` says before it starts anything: which port is taken, and which
Flower password to use."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.test_devstack import READY_WITHIN_S, stack_env, start_stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@contextmanager
def held(port: int) -> Iterator[None]:
    """A server on 127.0.0.1:port that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", port)):
        yield


def make_run(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "project.devstack"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("name", ["SMTP_PORT", "FLOWER_PORT"])
def test_a_taken_port_stops_make_run_before_it_starts_anything(
    tmp_path: Path, name: str
) -> None:
    env = stack_env()
    port = env[name]

    with held(int(port)):
        done = make_run(tmp_path, env)

    assert done.returncode == 1, done.stdout
    assert done.stderr == (
        f"make run: {name} {port} is in use (is another make run up?);"
        f" stop it or set {name} to a free port\n"
    )
    assert done.stdout == ""


def test_a_redis_port_held_by_something_else_stops_make_run(tmp_path: Path) -> None:
    env = stack_env()
    port = env["REDIS_URL"].rsplit(":", 1)[1].split("/")[0]

    with held(int(port)):
        done = make_run(tmp_path, env)

    assert done.returncode == 1, done.stdout
    assert done.stderr == (
        f"make run: REDIS_URL names port {port}, which is in use by something"
        " that does not answer as Redis; stop it, or set REDIS_URL to a free"
        " port or to a Redis server\n"
    )
    assert done.stdout == ""


def test_a_flower_password_of_the_users_own_is_not_printed(tmp_path: Path) -> None:
    stack = start_stack(tmp_path, stack_env(FLOWER_BASIC_AUTH="ops:chosen-pw-4821"))
    try:
        stack.wait_for("Ready.", READY_WITHIN_S)
    finally:
        os.killpg(stack.process.pid, signal.SIGINT)
        stack.process.wait(timeout=60)

    [line] = [line for line in stack.lines if line.startswith("Flower: ")]
    assert line.endswith("  user ops  password: the one in FLOWER_BASIC_AUTH")
    assert "chosen-pw-4821" not in stack.output()
    assert "made for this session" not in stack.output()
