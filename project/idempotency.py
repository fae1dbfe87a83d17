"""Idempotency records: "task X already did its side effect, with this result".

A task with an outside effect that must not happen twice (an e-mail) checks the
record before the effect and writes it after. Key, with the default prefix:

- `project:done:<task name>:<task id>`: the task's result as JSON; expires after
  IDEMPOTENCY_TTL_S, which start-up keeps above the visibility timeout.

The window that remains: a crash after the effect and before the record is
written (for e-mail, between the SMTP server's "250 accepted" and the SET, about
a millisecond) leaves no record, and the redelivered task does it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from project.redis_client import KEY_PREFIX, redis_client
from project.settings import Settings, get_settings

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


@dataclass(frozen=True, slots=True)
class IdempotencyRecords:
    client: redis.Redis
    ttl_s: int
    prefix: str = KEY_PREFIX

    def key(self, task_name: str, task_id: str) -> str:
        return f"{self.prefix}done:{task_name}:{task_id}"

    def recall(self, task_name: str, task_id: str) -> str | None:
        """The JSON result recorded for this task id, or None if it has none."""
        raw = self.client.get(self.key(task_name, task_id))
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def remember(
        self, task_name: str, task_id: str, result_json: str, *, patience_s: float = 20
    ) -> None:
        """Record that this task id has done its effect, with its result.

        The effect has happened, so the record is worth waiting for: while Redis
        is unreachable (a restart) this tries again for up to `patience_s`.
        """
        deadline = time.monotonic() + patience_s
        pause_s = 0.05
        while True:
            try:
                self.client.set(
                    self.key(task_name, task_id), result_json, ex=self.ttl_s
                )
                return
            except UNREACHABLE:
                if time.monotonic() + pause_s > deadline:
                    raise
            time.sleep(pause_s)
            pause_s = min(1.0, pause_s * 2)


def idempotency_records(settings: Settings | None = None) -> IdempotencyRecords:
    settings = settings or get_settings()
    return IdempotencyRecords(
        redis_client(settings.redis_url), ttl_s=settings.idempotency_ttl_s
    )
