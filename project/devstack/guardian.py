"""The `ready` watcher's second job: stop the stack when its main process dies.

Every command of `make run` runs in a session of its own (honcho starts them so),
out of reach of the kernel and the terminal: killed with SIGKILL, the main process
would leave them all running, adopted by PID 1. Its relays (one forked copy of it
per command) die with it (project.devstack.manager.Relay), so the watcher, a
relay's child, sees its parent change. Until then it notes the process groups of
the other commands; then it stops them as honcho would, and ends.

    main process -> relays -> one session per command: `sh -c ...` or the watcher

Linux only: the process tree is read from /proc. Elsewhere nothing is guarded.
"""

from __future__ import annotations

import os
import signal
import time

POLL_S = 1.0
# honcho's own wait between SIGTERM and SIGKILL.
STOP_WAIT_S = 5.0


def guard() -> None:
    """Poll the parent; once it is gone, stop the stack and end this process."""
    relay = os.getppid()
    groups: set[int] = set()
    while True:
        found = sibling_groups(relay)
        # Kept only when the relay outlived the scan: it then saw the whole tree.
        if os.getppid() != relay:
            break
        groups |= found
        time.sleep(POLL_S)
    stop(groups)
    # Nobody reads this process's output any more: end without a word.
    os._exit(1)


def sibling_groups(relay: int) -> set[int]:
    """The process groups of the stack's other commands: the group leaders among
    the children of the relays (this process aside)."""
    table = _processes()
    if relay not in table:
        return set()
    main, relays_group = table[relay]
    # The relay was adopted (the main process is gone): PID 1's children are
    # not the stack's.
    if main <= 1:
        return set()
    # The main process's children in the relay's process group.
    relays = {pid for pid, fields in table.items() if fields == (main, relays_group)}
    return {
        pid
        for pid, (ppid, group) in table.items()
        if ppid in relays and group == pid and pid != os.getpid()
    }


def stop(groups: set[int]) -> None:
    """SIGTERM, then SIGKILL for what is left after STOP_WAIT_S."""
    _signal(groups, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_S
    while groups and time.monotonic() < deadline:
        time.sleep(0.1)
        groups = {group for group in groups if _signal({group}, 0)}
    _signal(groups, signal.SIGKILL)


def _signal(groups: set[int], signum: int) -> bool:
    """True when some group was there to receive it."""
    reached = False
    for group in groups:
        try:
            os.killpg(group, signum)
            reached = True
        except (ProcessLookupError, PermissionError):
            pass
    return reached


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # After the command name, which may hold spaces and parentheses:
                # state, parent pid, process group, ...
                fields = stat.read().rpartition(")")[2].split()
        except OSError:  # it ended meanwhile
            continue
        found[int(entry)] = (int(fields[1]), int(fields[2]))
    return found
