"""Two real beat processes on one Redis: one fires; kill -9 it, the other takes over.

Runs with the default timings (loop 5 s, lock 20 s) and an entry with a slot
every 30 s, so the leader's death falls between two slots and every slot of
the whole test must fire exactly once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redbeat.schedulers import ensure_conf, get_redis

from project.scheduling.redbeat import ProjectEntry
from project.scheduling.schedule import CronSchedule
from project.scheduling.slots import SLOT_HEADER
from project.scheduling.timing import TAKEOVER_LIMIT_S
from tests.support.beat import BeatProcess, wait_for

ENTRY = "ha-probe"
QUEUE = "default"
SLOT_EVERY = timedelta(seconds=30)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def probe_entry(app: Any) -> Iterator[Any]:
    ensure_conf(app)
    client = get_redis(app)
    for key in client.scan_iter(match="redbeat:*"):
        client.delete(key)
    client.delete(QUEUE)
    ProjectEntry(
        name=ENTRY,
        task="tests.ha.probe",
        # A sixth field gives seconds: a slot at :00 and :30 of every minute.
        schedule=CronSchedule("* * * * * */30"),
        args=[{}],
        options={"queue": QUEUE},
        dynamic=True,
        last_run_at=datetime.now(UTC),
        app=app,
    ).save()
    yield client
    for key in client.scan_iter(match="redbeat:*"):
        client.delete(key)
    client.delete(QUEUE)


def fired_slots(client: Any) -> list[str]:
    """The slots of the probe entry in messages published to the broker."""
    slots = []
    for raw in client.lrange(QUEUE, 0, -1):
        headers = json.loads(raw)["headers"]
        slot = headers.get(SLOT_HEADER, "")
        if slot.startswith(f"{ENTRY}@"):
            slots.append(slot)
    return slots


def slot_time(slot: str) -> datetime:
    return datetime.strptime(slot.partition("@")[2], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=UTC
    )


def test_a_standby_takes_over_within_30_s_and_every_slot_fires_once(
    probe_entry: Any, tmp_path: Path
) -> None:
    beats = [BeatProcess(tmp_path / f"beat-{n}.log").start() for n in (1, 2)]
    try:
        # Given two beats, one of which holds the lock and fires
        wait_for(
            lambda: any(beat.leads for beat in beats), 60, "a beat taking the lock"
        )
        leader, standby = beats if beats[0].leads else beats[::-1]
        wait_for(lambda: len(fired_slots(probe_entry)) >= 1, 60, "a first fire")
        time.sleep(0.5)
        assert not standby.leads
        assert "Fired schedule entry" not in standby.log()
        fired_before_kill = len(fired_slots(probe_entry))
        # When the leader is killed with SIGKILL, just after a fire
        killed_at = time.monotonic()
        leader.kill()
        took_over_at = wait_for(
            lambda: standby.leads, TAKEOVER_LIMIT_S + 15, "the standby taking the lock"
        )
        takeover_s = took_over_at - killed_at
        # Then the standby fires the following slots
        wait_for(
            lambda: len(fired_slots(probe_entry)) >= fired_before_kill + 2,
            90,
            "two fires by the standby",
        )
        print(f"\ntakeover after kill -9: {takeover_s:.1f} s")
        assert takeover_s <= TAKEOVER_LIMIT_S
        assert "Fired schedule entry ha-probe" in standby.log()
        # And over the whole test every slot fired exactly once
        slots = fired_slots(probe_entry)
        counts = Counter(slots)
        assert all(count == 1 for count in counts.values()), counts
        times = sorted(slot_time(slot) for slot in counts)
        assert times == [times[0] + SLOT_EVERY * n for n in range(len(times))]
        assert len(times) >= 3
    finally:
        for beat in beats:
            beat.stop()
