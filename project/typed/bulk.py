"""`delay_many`: validate many payloads, then publish them in chunks.

A `.delay()` pays for a whole publish through kombu per message (a Redis client,
a round trip, a task-sent event). On a Redis broker `delay_many` builds the same
messages itself (`project.typed.envelope`) and sends each chunk as one LPUSH plus
one batched event in a single pipeline. On any other broker it falls back to
Celery's own publish path inside kombu's producer batch: slower, but the same.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import redis
from celery import current_task
from pydantic import BaseModel

from project.errors import PayloadInvalid, ProjectError
from project.queues import QUEUE_NAMES
from project.typed.envelope import (
    SENT_EVENT_KEY,
    MessageSpec,
    after_publish,
    build_message,
    event_batch_message,
)
from project.typed.redact import payload_repr

if TYPE_CHECKING:
    from project.typed.result import TypedResult
    from project.typed.task import TypedTask

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 500
# Transport options that change the Redis key layout; with any of them set, the
# fast path would write where the worker does not look.
LAYOUT_OPTIONS = frozenset(
    {"global_keyprefix", "fanout_prefix", "fanout_patterns", "sep"}
)

Progress = Callable[[int], None]


class PartlyPublished(ProjectError):
    """Publishing stopped part-way: `task_ids` are the messages already queued.

    Chunks are not one transaction; the caller decides whether to re-send the
    rest (payloads `len(task_ids)` onwards) or to leave it.
    """

    def __init__(
        self, task_name: str, task_ids: list[str], total: int, reason: str
    ) -> None:
        # Plain JSON arguments, so the error survives the result backend when a
        # task calls delay_many (see project.errors).
        super().__init__(task_name, task_ids, total, reason)
        self.task_name = task_name
        self.task_ids = list(task_ids)
        self.total = total
        self.reason = reason

    def __str__(self) -> str:
        return (
            f"{len(self.task_ids)} of {self.total} {self.task_name} messages were"
            f" enqueued before publishing failed: {self.reason}"
        )


def delay_many(
    task: TypedTask[Any, Any],
    payloads: Iterable[Any],
    *,
    queue: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_published: Progress | None = None,
) -> list[TypedResult[Any]]:
    """Validate every payload, then enqueue them `chunk_size` at a time.

    Nothing is published when any payload is invalid: PayloadInvalid names the
    payload by its position (`3.email: ...`). A broker failure part-way raises
    PartlyPublished with the ids already queued. `on_published(n)` is called
    after each chunk with the number of messages it held.
    """
    _check_options(chunk_size)
    target = task.spec.queue if queue is None else queue
    if target not in QUEUE_NAMES:
        raise ValueError(
            f"queue {target!r} is not declared; use one of {sorted(QUEUE_NAMES)}"
        )
    data = [_dump(task, index, payload) for index, payload in _numbered(payloads)]
    publish = _publisher(task.celery_task.app)
    spec = _message_spec(task, target)
    task_ids: list[str] = []
    for chunk in _chunks(data, chunk_size):
        try:
            task_ids.extend(publish(task, spec, chunk))
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise PartlyPublished(task.name, task_ids, len(data), reason) from exc
        if on_published is not None:
            on_published(len(chunk))
    logger.debug("Published %d messages of task %s", len(task_ids), task.name)
    return [task.result(task_id) for task_id in task_ids]


def _check_options(chunk_size: Any) -> None:
    # bool is an int to Python; `chunk_size=True` is a slip, not a size of 1.
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool):
        raise TypeError(
            f"chunk_size must be a whole number, got {type(chunk_size).__name__}"
        )
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be 1 or more, got {chunk_size}")


def _numbered(payloads: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    # A model, a mapping or a string is iterable too, and would be taken apart
    # into field tuples, keys or characters; refuse it with the fix instead.
    if isinstance(payloads, BaseModel | Mapping | str | bytes):
        raise TypeError(
            "delay_many takes a list (or other iterable) of payloads, got one"
            f" {type(payloads).__name__}; wrap a single payload in a list, or"
            " use .delay() for it"
        )
    return enumerate(payloads)


def _dump(task: TypedTask[Any, Any], index: int, payload: Any) -> Any:
    try:
        return task.dump_payload(payload)
    except PayloadInvalid as exc:
        errors = [
            {**error, "loc": [index, *error.get("loc", ())]} for error in exc.errors
        ]
        raise PayloadInvalid(task.name, errors) from None


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _message_spec(task: TypedTask[Any, Any], queue: str) -> MessageSpec:
    celery_task = task.celery_task
    # Called from inside a task, the new tasks belong to its workflow, as with
    # `.delay()`.
    parent = getattr(current_task, "request", None)
    parent_id = getattr(parent, "id", None)
    root_id = (getattr(parent, "root_id", None) or parent_id) if parent_id else None
    return MessageSpec(
        task_name=task.name,
        queue=queue,
        time_limits=(celery_task.time_limit, celery_task.soft_time_limit),
        ignore_result=bool(celery_task.ignore_result),
        reply_to=celery_task.app.thread_oid,
        root_id=root_id,
        parent_id=parent_id,
    )


Publisher = Callable[[Any, MessageSpec, list[Any]], list[str]]


def _publisher(app: Any) -> Publisher:
    url = str(app.conf.broker_write_url or app.conf.broker_url)
    options = set(app.conf.broker_transport_options or {})
    if urlsplit(url).scheme in ("redis", "rediss") and not options & LAYOUT_OPTIONS:
        events = bool(app.conf.task_send_sent_event)
        return functools.partial(_publish_redis, _client(url), app, events)
    return _publish_kombu


def _publish_redis(
    client: redis.Redis,
    app: Any,
    events: bool,
    task: Any,
    spec: MessageSpec,
    chunk: list[Any],
) -> list[str]:
    built = [build_message(spec, data, payload_repr(data), events) for data in chunk]
    with client.pipeline(transaction=False) as pipe:
        # One LPUSH keeps the order: the worker pops from the other end.
        pipe.lpush(spec.queue, *(item.message for item in built))
        if events:
            db = client.connection_pool.connection_kwargs.get("db", 0)
            batch = [item.event for item in built if item.event is not None]
            pipe.publish(
                f"/{db}.celeryev/{SENT_EVENT_KEY}",
                event_batch_message(batch, app.clock.forward()),
            )
        pipe.execute()
    after_publish(spec, built)
    return [item.task_id for item in built]


def _publish_kombu(task: Any, spec: MessageSpec, chunk: list[Any]) -> list[str]:
    celery_task = task.celery_task
    with celery_task.app.producer_or_acquire() as producer, producer.batch():
        return [
            celery_task.apply_async(
                args=(data,),
                queue=spec.queue,
                producer=producer,
                argsrepr=payload_repr(data),
            ).id
            for data in chunk
        ]


@functools.cache
def _client(url: str) -> redis.Redis:
    # One client (and connection pool) per broker URL for the process's lifetime.
    return redis.Redis.from_url(url)
