"""Poison messages: runs that kill their worker are counted and stopped.

With late acks a message whose run kills its process (os._exit, a segfault, an
OOM kill) or the whole worker (kill -9) is never acknowledged, so the broker
delivers it again: forever, unless someone counts. A redelivered run of a
typed task counts itself before it starts, on a key that survives redelivery:

- `project:deliveries:<task id>:<attempt>`: runs started of that attempt after
  its first delivery. The task id and the retry number are both in the message,
  so a redelivered message counts on the same key while a retry (a new message)
  starts afresh. Expires a day after its last run, or with the visibility
  timeout when that is longer, so that a slow redelivery still finds it.

A first delivery writes nothing: it is the common case, and a Redis round trip
before every task is most of what the typed layer would cost a worker. The
broker marks every message it hands out again (kombu's Redis transport when it
restores an unacknowledged message, RabbitMQ itself), and a redelivered run
counts the first delivery as one run that did not finish.

When a run finds that POISON_MAX_DELIVERIES runs of its attempt already
started, it does not run the task: the task fails with WorkerLost and is stored
as a dead letter with reason `worker-lost`. Prefetched messages that a crashed
worker hands back are redelivered too, but count only from their first real
run: at most one run is counted that did not happen.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from project.errors import WorkerLost
from project.redis_client import KEY_PREFIX, redis_client
from project.settings import Settings, get_settings

_MIN_TTL_S = 86400


@dataclass(frozen=True, slots=True)
class DeliveryCounter:
    client: redis.Redis
    max_deliveries: int
    ttl_s: int
    prefix: str = KEY_PREFIX

    def key(self, task_id: str, attempt: int) -> str:
        return f"{self.prefix}deliveries:{task_id}:{attempt}"

    def count_run(self, task_id: str, attempt: int) -> int:
        """Count a run of this attempt; returns the runs so far, this one included."""
        key = self.key(task_id, attempt)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.ttl_s)
            runs, _ = pipe.execute()
        return int(runs)

    def admit(self, task_name: str, task_id: str, attempt: int) -> int:
        """Count this redelivered run, and the first delivery before it; raise
        WorkerLost if earlier runs used up the deliveries."""
        runs = 1 + self.count_run(task_id, attempt)
        if runs > self.max_deliveries:
            raise WorkerLost(
                f"task {task_name}[{task_id}] attempt {attempt} was delivered"
                f" {runs} times; the {runs - 1} runs before did not finish (each"
                " killed its worker process), so it is quarantined instead of run"
            )
        return runs


def delivery_counter(settings: Settings | None = None) -> DeliveryCounter:
    settings = settings or get_settings()
    return DeliveryCounter(
        redis_client(settings.redis_url),
        max_deliveries=settings.poison_max_deliveries,
        ttl_s=max(_MIN_TTL_S, 2 * settings.visibility_timeout_s),
    )
