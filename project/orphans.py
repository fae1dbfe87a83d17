"""A pool process whose worker died finishes the task at hand, then ends.

Celery makes its prefork pool processes die with the worker's main process
(PR_SET_PDEATHSIG = SIGKILL), which cuts a running task at any point: after the
SMTP server accepted an e-mail and before the idempotency record says so, for
one, and the redelivered task then sends the e-mail again.

Instead, a pool process gets SIGUSR2 when its main process dies, and the
handler only arms an alarm: the task at hand runs on (it cannot take another,
its work queue is gone) and SIGALRM ends the process `orphan_grace_s` later.
The grace stays below half the visibility timeout, so the task is over (and its
record written) before the broker delivers its message again.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Any

from billiard.util import set_pdeathsig  # type: ignore[import-untyped]

ORPHAN_SIGNAL = signal.SIGUSR2
MAX_GRACE_S = 60


def orphan_grace_s(visibility_timeout_s: int) -> int:
    """Seconds an orphaned pool process may go on: under half the timeout."""
    return max(1, min(MAX_GRACE_S, visibility_timeout_s // 2))


def finish_task_when_orphaned(grace_s: int) -> None:
    """Replace Celery's death signal in this pool process; Linux only."""
    if not sys.platform.startswith("linux"):
        return

    def orphaned(signum: int, frame: FrameType | None) -> None:
        # Nothing else here: a signal handler must not take locks (logging does).
        signal.alarm(grace_s)

    signal.signal(ORPHAN_SIGNAL, orphaned)
    set_pdeathsig(ORPHAN_SIGNAL)


def on_process_init(**_: Any) -> None:
    """`worker_process_init` receiver: runs after Celery set its own signal."""
    from project.settings import get_settings

    finish_task_when_orphaned(orphan_grace_s(get_settings().visibility_timeout_s))
