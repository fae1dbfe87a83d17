"""The Celery application and its configuration.

Every setting that differs from Celery's default carries the reason beside it.
Reference: https://docs.celeryq.dev/en/stable/userguide/configuration.html
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.entity import Queue

from project.queues import DEFAULT, QUEUES
from project.settings import Settings

# Modules that declare tasks; the worker imports them at start-up.
TASK_MODULES = (
    "project.tasks.email",
    "project.tasks.accounts",
)


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery's settings, derived from ours. Pure, so tests can inspect it."""
    transport_options: dict[str, Any] = {
        # A reserved message is redelivered after this long; see DESIGN.md.
        "visibility_timeout": settings.visibility_timeout_s,
    }
    queue_arguments = (
        {"x-queue-type": "quorum"}
        if settings.amqp_quorum_queues and not settings.broker_is_redis
        else None
    )
    return {
        "broker_url": settings.effective_broker_url,
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
    }


def create_app(settings: Settings) -> Celery:
    """A configured Celery app. Task modules attach to the module-level `app`."""
    celery = Celery("project", set_as_current=True)
    celery.conf.update(celery_config(settings))
    return celery
