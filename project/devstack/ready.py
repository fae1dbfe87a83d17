"""`make run`'s last word: waits until the stack answers, then says what to do next.

Runs as one more process of the stack, so its lines join the same log stream. It
then stays idle until the stack stops: the process manager stops everything when
any one process ends. Meanwhile it guards the stack against the death of that
manager (project.devstack.guardian).
"""

from __future__ import annotations

import signal
import sys
import threading
import time

from project.devstack import guardian
from project.health import run_checks

WAIT_LIMIT_S = 120.0
POLL_S = 1.0


def wait_until_ready(limit_s: float = WAIT_LIMIT_S) -> str | None:
    """The health line once broker, a worker and beat answer; None at the limit."""
    from project import app

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        report = run_checks(app, ("broker", "workers", "beat"), timeout_s=1.0)
        if report.ok:
            return report.line()
        time.sleep(POLL_S)
    return None


def next_steps() -> list[str]:
    return [
        "From a second shell, send the first welcome e-mail:",
        "  .venv/bin/project send email.send"
        ' \'{"user_id":"u-1","email":" New.User@Example.COM ",'
        '"template":"welcome"}\' --wait',
        "  ls var/mail/",
        "See the schedule, and write yesterday's report now:",
        "  .venv/bin/project schedules",
        "  .venv/bin/project schedules run daily-report --wait",
    ]


def main() -> None:
    # Only under `make run`: elsewhere the parent's other children are not ours.
    if "--guard" in sys.argv[1:] and sys.platform.startswith("linux"):
        # From the start: a manager killed before the stack answers leaves it too.
        threading.Thread(target=guardian.guard, name="guardian", daemon=True).start()
    line = wait_until_ready()
    if line is None:
        print(
            f"The stack did not answer within {WAIT_LIMIT_S:g} s;"
            " `.venv/bin/project health` says which part is missing",
            flush=True,
        )
    else:
        print(f"Ready. {line}", flush=True)
        print("\n".join(next_steps()), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
