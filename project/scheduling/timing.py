"""The rule that ties beat's loop interval to its lock timeout."""

from __future__ import annotations

# A standby beat must take over within this many seconds of the leader's death.
TAKEOVER_LIMIT_S = 30.0
# The leader extends its lock once per tick; this many ticks fit in one timeout,
# so one slow tick cannot let the lock expire under a live leader.
TICKS_PER_LOCK = 3


def beat_timing_problem(loop_interval_s: float, lock_timeout_s: float) -> str | None:
    """What is wrong with these beat timings, or None when they are sound.

    A standby retries the lock every loop interval, so after the leader dies it
    waits at most lock timeout + loop interval.
    """
    takeover_s = lock_timeout_s + loop_interval_s
    if takeover_s > TAKEOVER_LIMIT_S:
        return (
            f"BEAT_LOCK_TIMEOUT_S ({lock_timeout_s:g}) + BEAT_LOOP_INTERVAL_S"
            f" ({loop_interval_s:g}) = {takeover_s:g} s, the longest a standby beat"
            f" waits to take over, must be at most {TAKEOVER_LIMIT_S:g} s;"
            " lower either"
        )
    if lock_timeout_s < TICKS_PER_LOCK * loop_interval_s:
        return (
            f"BEAT_LOCK_TIMEOUT_S ({lock_timeout_s:g}) must be at least"
            f" {TICKS_PER_LOCK} x BEAT_LOOP_INTERVAL_S ({loop_interval_s:g}), so the"
            " lock cannot expire between two ticks of a live leader; raise the"
            " timeout or lower the interval"
        )
    return None
