"""A pool process whose worker died finishes the task at hand, then ends.

Celery makes its prefork pool processes die with the worker's main process
(PR_SET_PDEATHSIG = SIGKILL), which cuts a running task at any point: after the
SMTP server accepted an e-mail and before the idempotency record says so, for
one, and the redelivered task then sends the e-mail again.

Instead, a pool process gets SIGUSR2 when its main process dies. An idle one
ends at once. One running a task runs on (it cannot take another, its work
queue is gone) and ends as soon as the task is over (task_postrun), or at the
latest when SIGALRM ends it `orphan_grace_s` later. The grace stays below half
the visibility timeout, so the task is over (and its record written) before the
broker delivers its message again. Ending early matters: the pool processes
hold the worker's stdout, and a process manager (`make run`'s honcho) sees the
worker end only once they are all gone.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import Any

from billiard.util import set_pdeathsig  # type: ignore[import-untyped]
from celery import signals

ORPHAN_SIGNAL = signal.SIGUSR2
MAX_GRACE_S = 60


def orphan_grace_s(visibility_timeout_s: int) -> int:
    """Seconds an orphaned pool process may go on: under half the timeout."""
    return max(1, min(MAX_GRACE_S, visibility_timeout_s // 2))


def finish_task_when_orphaned(grace_s: int) -> None:
    """Replace Celery's death signal in this pool process, and note whether it
    is running a task; Linux only."""
    if not sys.platform.startswith("linux"):
        return
    state = {"running": False, "orphaned": False}

    def started(**_: Any) -> None:
        state["running"] = True

    def ended(**_: Any) -> None:
        state["running"] = False
        if state["orphaned"]:
            # As the alarm would end it: the result is stored, and the main
            # process it would report to is gone.
            os._exit(0)

    def orphaned(signum: int, frame: FrameType | None) -> None:
        # Flags, the alarm and os._exit only: a signal handler must not take
        # locks (logging does).
        if not state["running"]:
            os._exit(0)
        state["orphaned"] = True
        signal.alarm(grace_s)

    # Connected last, after the receivers that log and count the task.
    signals.task_prerun.connect(started, weak=False, dispatch_uid="orphans")
    signals.task_postrun.connect(ended, weak=False, dispatch_uid="orphans")
    signal.signal(ORPHAN_SIGNAL, orphaned)
    set_pdeathsig(ORPHAN_SIGNAL)


def on_process_init(**_: Any) -> None:
    """`worker_process_init` receiver: runs after Celery set its own signal."""
    from project.settings import get_settings

    finish_task_when_orphaned(orphan_grace_s(get_settings().visibility_timeout_s))
