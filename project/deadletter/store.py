"""The dead-letter store in Redis, bounded by DEAD_LETTER_MAX.

Keys (with the default prefix `project:`):

- `project:deadletter:<task id>`: one dead letter as a JSON document.
- `project:deadletters`: a sorted set of task ids scored by the last failure time
  (UNIX seconds, UTC), for listing newest first, trimming and purging by age.

A second failure of the same task id replaces its dead letter (a message that is
delivered again after its failure was stored writes the same entry again).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from project.deadletter.model import DeadLetter, Reason
from project.redis_client import KEY_PREFIX, redis_client
from project.settings import Settings, get_settings

# Writes the entry, indexes it and trims the oldest beyond the bound, atomically.
# KEYS: index. ARGV: entry key prefix, id, score, document, bound.
_ADD_SCRIPT = """
redis.call('SET', ARGV[1] .. ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[5])
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
  for _, id in ipairs(oldest) do redis.call('DEL', ARGV[1] .. id) end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
  return excess
end
return 0
"""

_BATCH = 500


class DeadLetterStore:
    """Add, read, delete and purge dead letters. Every method is one or a few calls."""

    def __init__(
        self, client: redis.Redis, *, max_entries: int, prefix: str = KEY_PREFIX
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be 1 or more, got {max_entries}")
        self.client = client
        self.max_entries = max_entries
        self.entry_prefix = f"{prefix}deadletter:"
        self.index_key = f"{prefix}deadletters"
        self._add = client.register_script(_ADD_SCRIPT)

    def add(self, letter: DeadLetter) -> int:
        """Store `letter`; returns how many of the oldest were dropped (the bound)."""
        score = letter.last_failed_at.timestamp()
        dropped = self._add(
            keys=[self.index_key],
            args=[
                self.entry_prefix,
                letter.id,
                score,
                letter.model_dump_json(),
                self.max_entries,
            ],
        )
        return int(dropped)

    def get(self, task_id: str) -> DeadLetter | None:
        raw = self.client.get(self.entry_prefix + task_id)
        return None if raw is None else DeadLetter.model_validate_json(raw)

    def ids_starting_with(self, prefix: str) -> list[str]:
        """The ids that start with `prefix`, oldest failure first."""
        ids = self._decode(self.client.zrange(self.index_key, 0, -1))
        return [task_id for task_id in ids if task_id.startswith(prefix)]

    def count(self) -> int:
        return int(self.client.zcard(self.index_key))

    def entries(
        self, *, task: str | None = None, reason: Reason | str | None = None
    ) -> list[DeadLetter]:
        """Every dead letter, newest failure first, optionally of one task or reason."""
        return [
            letter
            for letter in self._iter_newest_first()
            if (task is None or letter.task == task)
            and (reason is None or letter.reason == reason)
        ]

    def delete(self, task_id: str) -> bool:
        """Remove one dead letter; False when there was none."""
        with self.client.pipeline() as pipe:
            pipe.delete(self.entry_prefix + task_id)
            pipe.zrem(self.index_key, task_id)
            removed, _ = pipe.execute()
        return bool(removed)

    def purge(
        self, older_than: timedelta | None = None, *, now: datetime | None = None
    ) -> int:
        """Remove the dead letters whose last failure is older than `older_than`.

        Without `older_than` every dead letter goes. Returns how many were removed;
        a second call with the same arguments removes nothing more.
        """
        if older_than is None:
            cutoff = "+inf"
        else:
            cutoff = str(((now or datetime.now(UTC)) - older_than).timestamp())
        ids = self._decode(self.client.zrangebyscore(self.index_key, "-inf", cutoff))
        removed = 0
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            with self.client.pipeline() as pipe:
                pipe.delete(*(self.entry_prefix + task_id for task_id in chunk))
                pipe.zrem(self.index_key, *chunk)
                deleted, _ = pipe.execute()
            removed += int(deleted)
        return removed

    def _iter_newest_first(self) -> Iterator[DeadLetter]:
        ids = self._decode(self.client.zrevrange(self.index_key, 0, -1))
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            documents = self.client.mget([self.entry_prefix + i for i in chunk])
            for raw in documents:
                if raw is not None:
                    yield DeadLetter.model_validate_json(raw)

    @staticmethod
    def _decode(values: Any) -> list[str]:
        return [
            value.decode() if isinstance(value, bytes) else str(value)
            for value in values
        ]


def dead_letter_store(settings: Settings | None = None) -> DeadLetterStore:
    """The store of this deployment, in the Redis at REDIS_URL."""
    settings = settings or get_settings()
    return DeadLetterStore(
        redis_client(settings.redis_url), max_entries=settings.dead_letter_max
    )
