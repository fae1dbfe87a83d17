"""The queues this project routes to, with the worker profile that suits each.

`celery -A project worker` without `-Q` consumes every queue listed here. A typed
task must name one of them; a typo is refused when the task is declared.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    # With late acks a prefetched message waits behind the running one; long or
    # CPU-bound work prefetches one, short I/O-bound work can take a few more.
    prefetch_multiplier: int
    description: str


DEFAULT = QueueSpec("default", 1, "Short tasks with no queue of their own.")
EMAIL = QueueSpec("email", 4, "Sending e-mail: I/O-bound, suits a thread pool.")
REPORTS = QueueSpec("reports", 1, "Daily reports: CPU-bound, one at a time.")
MAINTENANCE = QueueSpec("maintenance", 1, "Cleanup and other housekeeping.")

QUEUES: tuple[QueueSpec, ...] = (DEFAULT, EMAIL, REPORTS, MAINTENANCE)
QUEUE_NAMES: frozenset[str] = frozenset(queue.name for queue in QUEUES)
