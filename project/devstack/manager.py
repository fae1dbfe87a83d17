"""honcho's process manager, made to stop the whole stack however its terminal goes.

honcho starts each command in a session of its own, through a relay: a forked copy
of this process that reads the command's output and passes it on. No signal of the
terminal reaches the commands, so this process must stop them itself, and when it
dies without doing so (SIGKILL) the `ready` watcher does (project.devstack.guardian).
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import Any

from billiard.util import set_pdeathsig  # type: ignore[import-untyped]
from honcho.manager import Manager
from honcho.printer import Printer
from honcho.process import Process

# The shell's 128 + signal number, as honcho reports SIGINT (130) and SIGTERM (143).
HANGUP_RC = 128 + signal.SIGHUP


class Relay(Process):  # type: ignore[misc]
    """honcho's relay of one command, which outlives a hangup but not the manager."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.manager_pid = os.getpid()

    def run(self, events: Any = None, ignore_signals: bool = False) -> None:
        # A closed terminal's SIGHUP reaches this relay too (the shell signals the
        # whole job); it must live on to report its command's end, or the manager
        # waits for it forever. A handler, unlike SIG_IGN, is not passed on to the
        # command through exec.
        signal.signal(signal.SIGHUP, lambda *_: None)
        if sys.platform.startswith("linux"):
            # Gone with the manager, so that the `ready` watcher, whose parent this
            # relay is, notices that the manager is gone.
            set_pdeathsig(signal.SIGKILL)
            if os.getppid() != self.manager_pid:  # it died before the line above
                os._exit(1)
        super().run(events, ignore_signals)


class Output:
    """stdout for honcho's printer, dropping what cannot be written: after a hangup
    every write to the terminal fails (EIO), and the failure would end the loop
    before it has stopped the processes."""

    def write(self, text: str) -> int:
        try:
            return sys.stdout.write(text)
        except OSError:
            self._silence()
            return len(text)

    def flush(self) -> None:
        try:
            sys.stdout.flush()
        except OSError:
            self._silence()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    @staticmethod
    def _silence() -> None:
        # On the file descriptors, so that later prints and the flush at exit
        # succeed too.
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, sys.stdout.fileno())
        os.dup2(quiet, sys.stderr.fileno())
        os.close(quiet)


class StackManager(Manager):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(printer=Printer(Output()))
        self._process_ctor = Relay

    def loop(self) -> None:
        # honcho stops everything on SIGINT and SIGTERM only; SIGHUP's default
        # would end this process alone, leaving every command running.
        signal.signal(signal.SIGHUP, self._hang_up)
        super().loop()

    def _hang_up(self, signum: int, frame: FrameType | None) -> None:
        self._system_print("SIGHUP received\n")
        self.returncode = HANGUP_RC
        self.terminate()
