"""One fire per slot: the key every fire carries, and its claim on the worker.

A slot is an entry's scheduled instant. Two beats after a network split, or a
message the broker restores after the visibility timeout, deliver the same slot
twice; the worker claims `<entry>@<instant>` in Redis with SET NX before running
and skips (and logs) a delivery whose slot is already claimed.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import Any

import redis
from celery.exceptions import Ignore

from project.scheduling.cron import as_utc
from project.settings import get_settings

logger = logging.getLogger(__name__)

# Message headers of a scheduled fire.
ENTRY_HEADER = "schedule_entry"
SLOT_HEADER = "schedule_slot"

# SET NX per slot; kept a week, far longer than any redelivery can take.
CLAIM_PREFIX = "project:schedule:claimed:"
CLAIM_TTL_S = 7 * 86400


def slot_key(entry_name: str, slot: datetime) -> str:
    """`daily-report@2026-12-04T00:00:00Z`: the entry and its instant in UTC."""
    return f"{entry_name}@{as_utc(slot):%Y-%m-%dT%H:%M:%SZ}"


def fire_headers(entry_name: str, slot: datetime) -> dict[str, Any]:
    return {
        ENTRY_HEADER: entry_name,
        SLOT_HEADER: slot_key(entry_name, slot),
        # Celery beat's own marker, kept for tools that look for it.
        "celery_beat_task": True,
    }


def request_header(request: Any, name: str) -> Any:
    """A custom header of a task request (Celery puts them on the request)."""
    value = getattr(request, name, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def claim(key: str, task_id: str) -> bool:
    """True when this task is the first to claim slot `key`."""
    client = _client(get_settings().redis_url)
    return bool(client.set(CLAIM_PREFIX + key, task_id, nx=True, ex=CLAIM_TTL_S))


def claim_or_skip(request: Any) -> None:
    """Before a task runs: skip it (Celery's Ignore) if its slot already ran.

    Only first attempts claim: a retry of the task that holds the claim carries
    the same slot header and must run.
    """
    key = request_header(request, SLOT_HEADER)
    if not key or (request.retries or 0) > 0:
        return
    if claim(str(key), str(request.id)):
        return
    logger.warning(
        "Skipping task %s[%s]: schedule slot %s was already delivered once",
        request.task,
        request.id,
        key,
    )
    raise Ignore()
