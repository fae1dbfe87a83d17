"""`make run`'s stack ends whole however it ends: its terminal closes, its main
process is killed, or its worker's main process is killed.

Each command of the stack runs in a session of its own, so no process group or
session signal reaches them all: the test notes every descendant of the stack's
main process once it is ready, and checks that none outlives the stack.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_devstack import READY_WITHIN_S, Stack, stack_env, start_stack

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

GONE_WITHIN_S = 15.0
# Makes the terminal on its stdin its controlling terminal (it leads a session of
# its own), as a login shell's job has one; then becomes the stack.
TAKE_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0);"
    " os.execv(sys.executable, [sys.executable, '-m', 'project.devstack'])"
)


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: state, ppid, ... (None: gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()
    except OSError:
        return None


def descendants(root: int) -> dict[int, str]:
    """pid -> start time (which tells a reused pid apart) of root's descendants."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in os.listdir("/proc"):
        fields = _stat(int(entry)) if entry.isdigit() else None
        if fields:
            parents[int(entry)] = (int(fields[1]), fields[19])
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, start) in parents.items():
            if ppid == parent:
                found[pid] = start
                frontier.append(pid)
    return found


def alive(processes: dict[int, str]) -> dict[int, str]:
    left = {}
    for pid, start in processes.items():
        fields = _stat(pid)
        if fields and fields[0] != "Z" and fields[19] == start:
            left[pid] = start
    return left


def wait_gone(processes: dict[int, str], timeout_s: float) -> list[str]:
    """The command lines of those still running after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while alive(processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [_command(pid) for pid in alive(processes)]


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"({pid} ended)"


def kill_all(stack: Stack, processes: dict[int, str]) -> None:
    """Never leave a process behind, whatever the test found."""
    if stack.process.poll() is None:
        os.killpg(stack.process.pid, signal.SIGKILL)
    for pid in alive(processes):
        os.kill(pid, signal.SIGKILL)
    stack.process.wait(timeout=10)


@dataclass
class Watched:
    stack: Stack
    processes: dict[int, str]


def watch(stack: Stack) -> Watched:
    stack.wait_for("Ready.", READY_WITHIN_S)
    processes = descendants(stack.process.pid)
    # Redis, the SMTP sink, worker (with two pool processes), beat, Flower and
    # the watcher, each under its relay.
    assert len(processes) >= 6 * 2 + 2, processes
    return Watched(stack, processes)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Watched]:
    stack = start_stack(tmp_path, stack_env())
    processes: dict[int, str] = {}
    try:
        found = watch(stack)
        processes = found.processes
        yield found
    finally:
        kill_all(stack, processes)


def test_closing_the_terminal_stops_every_process(tmp_path: Path) -> None:
    master, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", TAKE_TERMINAL],
        cwd=tmp_path,
        env=stack_env(),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        text=True,
    )
    os.close(terminal)
    stack = Stack(process, tmp_path, {})
    closed = threading.Event()
    reader = threading.Thread(target=_read_terminal, args=(stack, master, closed))
    reader.start()
    processes: dict[int, str] = {}
    try:
        processes = watch(stack).processes

        # When the terminal closes: the kernel hangs it up and sends SIGHUP to
        # its session's leader, and the shell sends SIGHUP to the whole job
        closed.set()
        reader.join(timeout=10)
        os.killpg(process.pid, signal.SIGHUP)

        # Then the stack stops as on Ctrl-C
        assert process.wait(timeout=60) == 0
        assert not wait_gone(processes, GONE_WITHIN_S)
    finally:
        closed.set()
        reader.join(timeout=10)
        kill_all(stack, processes)


def _read_terminal(stack: Stack, master: int, closed: threading.Event) -> None:
    """The terminal's lines into stack.lines, until closed is set; then closes
    the terminal's master side, which hangs it up."""
    pending = b""
    while not closed.is_set():
        if not select.select([master], [], [], 0.1)[0]:
            continue
        try:
            pending += os.read(master, 65536)
        except OSError:  # EIO: no process has the terminal open any more
            break
        *lines, pending = pending.split(b"\n")
        stack.lines.extend(line.decode(errors="replace").rstrip("\r") for line in lines)
    os.close(master)


def test_sigkill_of_the_main_process_stops_every_process(watched: Watched) -> None:
    os.kill(watched.stack.process.pid, signal.SIGKILL)

    assert not wait_gone(watched.processes, GONE_WITHIN_S)


def test_kill_9_of_the_worker_stops_the_whole_stack(watched: Watched) -> None:
    worker = worker_main_process(watched.processes)

    os.kill(worker, signal.SIGKILL)
    killed_at = time.monotonic()

    left = wait_gone(watched.processes, GONE_WITHIN_S)
    stopped_after_s = time.monotonic() - killed_at
    assert not left, f"still running {stopped_after_s:.1f} s after the kill: {left}"
    returncode = watched.stack.process.wait(timeout=5)
    assert returncode != 0, watched.stack.output()
    assert "worker stopped (rc=" in watched.stack.output()


def worker_main_process(processes: dict[int, str]) -> int:
    """The worker's main process: a worker whose parent is none (its `sh -c`)."""
    workers = {}
    for pid in processes:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if argv[1:6] == [b"-m", b"celery", b"-A", b"project", b"worker"]:
            fields = _stat(pid)
            assert fields is not None
            workers[pid] = int(fields[1])
    [main] = [pid for pid, ppid in workers.items() if ppid not in workers]
    return main
