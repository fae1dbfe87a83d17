"""The Celery application and its configuration.

Every setting that differs from Celery's default carries the reason beside it.
Reference: https://docs.celeryq.dev/en/stable/userguide/configuration.html
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from celery import Celery, signals
from kombu.entity import Queue

from project.broker import TRANSPORT
from project.errors import ConfigurationError
from project.orphans import on_process_init
from project.queues import DEFAULT, QUEUES
from project.settings import BACKEND_SCHEMES, Settings

# Modules that declare tasks; the worker imports them at start-up.
TASK_MODULES = (
    "project.tasks.email",
    "project.tasks.accounts",
    "project.tasks.reports",
    "project.tasks.maintenance",
)


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery's settings, derived from ours. Pure, so tests can inspect it."""
    transport_options: dict[str, Any] = {
        # A reserved message is redelivered after this long; see DESIGN.md.
        "visibility_timeout": settings.visibility_timeout_s,
        # Look for messages of a dead worker every few seconds: by default kombu
        # looks every 10 x 10 s, so they would return up to 100 s late.
        "unacked_restore_interval": restore_interval_s(settings.visibility_timeout_s),
        "unacked_restore_throttle": 1,
    }
    queue_arguments = (
        {"x-queue-type": "quorum"}
        if settings.amqp_quorum_queues and not settings.broker_is_redis
        else None
    )
    return {
        "broker_url": settings.effective_broker_url,
        # On redis:// a transport that never drops a message it took off a queue
        # when Redis goes away at that moment; see project/broker.py.
        "broker_transport": (
            TRANSPORT
            if urlsplit(settings.effective_broker_url).scheme == "redis"
            else None
        ),
        "result_backend": settings.redis_url,
        # Pickle runs code on load: JSON only, for messages, results and events.
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        # Flower (and `project health`) see tasks only through events; the sent
        # event shows tasks that wait for a worker.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        # The default (None) warns and changes meaning across releases: say it.
        "broker_connection_retry_on_startup": True,
        "broker_connection_retry": True,
        # Acknowledge after the task ran, so a crashed worker loses nothing; tasks
        # are written to run twice safely (see the idempotency notes in DESIGN.md).
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A lost broker connection does not cancel running tasks (an e-mail cut
        # mid-session may go out twice); their messages come back after the
        # visibility timeout (project/broker.py). Stated: 6.0 flips the default.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # One message per process by default; `project.queues` tunes it per queue
        # for workers started by the start scripts.
        "worker_prefetch_multiplier": DEFAULT.prefetch_multiplier,
        # Stops a runaway task even when its own time limits were forgotten.
        "task_soft_time_limit": 300,
        "task_time_limit": 330,
        # Results live one day (Celery's default, stated) and failures a week, so a
        # failure can still be read after a weekend.
        "result_expires": settings.result_expires_s,
        "result_failure_expires": max(settings.result_expires_s, 7 * 86400),
        # Writing a result while Redis restarts waits for it (about 30 s at most)
        # instead of turning a task that ran into a FAILURE whose message is
        # then acknowledged and gone.
        "result_backend_always_retry": True,
        "result_backend_max_retries": 20,
        "result_backend_base_sleep_between_retries_ms": 100,
        "result_backend_max_sleep_between_retries_ms": 2000,
        "broker_transport_options": transport_options,
        "result_backend_transport_options": dict(transport_options),
        # STARTED is visible to callers and Flower instead of PENDING while running.
        "task_track_started": True,
        # Shutdown (docs/OPERATIONS.md): SIGTERM is a warm shutdown that waits for
        # running tasks; a cold one (SIGQUIT, or SIGTERM under REMAP_SIGTERM=SIGQUIT
        # as in docker/worker.sh) first gives them this long, then cancels them,
        # and late acks put their messages back on the queue.
        "worker_soft_shutdown_timeout": settings.worker_soft_shutdown_timeout_s,
        # Wait even with no task running: reserved countdown and retry messages are
        # then handed back before the connection closes.
        "worker_enable_soft_shutdown_on_idle": True,
        # An unknown task name is an error rather than a silently routed message.
        "task_create_missing_queues": False,
        "task_default_queue": DEFAULT.name,
        "task_queues": [
            Queue(spec.name, routing_key=spec.name, queue_arguments=queue_arguments)  # type: ignore[no-untyped-call]
            for spec in QUEUES
        ],
        "enable_utc": True,
        "timezone": "UTC",
        "include": list(TASK_MODULES),
        # Beat on RedBeat with our zoned cron entries (docs/SCHEDULES.md). A
        # standby takes over within lock timeout + loop interval (<= 30 s,
        # checked in settings); the leader extends the lock every tick.
        "beat_scheduler": "project.scheduling.redbeat:ProjectScheduler",
        "beat_max_loop_interval": settings.beat_loop_interval_s,
        "redbeat_redis_url": settings.redis_url,
        "redbeat_redis_options": {"health_check_interval": 30},
        "redbeat_key_prefix": "redbeat:",
        "redbeat_lock_timeout": settings.beat_lock_timeout_s,
    }


def create_app(settings: Settings) -> Celery:
    """A configured Celery app. Task modules attach to the module-level `app`."""
    celery = Celery("project", set_as_current=True)
    celery.conf.update(celery_config(settings))
    signals.worker_init.connect(_check_at_start, weak=False, dispatch_uid="failures")
    signals.worker_process_init.connect(
        on_process_init, weak=False, dispatch_uid="orphans"
    )
    return celery


def restore_interval_s(visibility_timeout_s: int) -> int:
    """Seconds between sweeps for unacknowledged messages past the timeout."""
    return max(1, min(10, visibility_timeout_s // 4))


def redis_visibility_timeout_s(conf: Any) -> float | None:
    """The broker's visibility timeout, or None when the broker is not Redis."""
    if urlsplit(str(conf.broker_url)).scheme not in BACKEND_SCHEMES:
        return None
    options = conf.broker_transport_options or {}
    return float(options.get("visibility_timeout", 3600))


def check_retry_delays(tasks: Iterable[Any], visibility_timeout_s: float) -> None:
    """Refuse a task whose longest retry wait reaches the visibility timeout.

    A retry is a message with a countdown; on Redis it waits unacknowledged and
    is delivered a second time once the visibility timeout passes.
    """
    problems = [
        f"  task {task.name}: its retry policy ({task.spec.retry.describe()}) may"
        f" wait {task.spec.retry.longest_delay_s():g} s before a retry"
        for task in tasks
        if task.spec.retry.longest_delay_s() >= visibility_timeout_s
    ]
    if problems:
        raise ConfigurationError(
            f"retry waits reach VISIBILITY_TIMEOUT_S ({visibility_timeout_s:g} s), so"
            " those retries would run twice:\n" + "\n".join(problems) + "\nRaise"
            " VISIBILITY_TIMEOUT_S above the longest wait, or lower the policy's"
            " max_delay_s."
        )


def _check_at_start(sender: Any = None, **_: Any) -> None:
    # Celery logs and swallows an Exception raised by a signal receiver, so the
    # refusal leaves as SystemExit, which stops the worker before it consumes.
    from project.typed.registry import load_all

    limit = redis_visibility_timeout_s(sender.app.conf)
    if limit is None:
        return
    try:
        check_retry_delays(load_all().values(), limit)
    except ConfigurationError as exc:
        raise SystemExit(f"project: {exc}") from None
