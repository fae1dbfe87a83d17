"""The same work as Dramatiq actors: `dramatiq bench.dramatiq_actors`."""

from __future__ import annotations

import os
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

NAMESPACE = "bench-dramatiq"
QUEUE = "default"

broker = RedisBroker(url=os.environ["REDIS_URL"], namespace=NAMESPACE)
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def noop(payload: dict[str, Any]) -> None:
    from bench.tasks import mark_done

    mark_done()


@dramatiq.actor(queue_name="email", max_retries=0)
def send_email(job: dict[str, Any]) -> None:
    """The project's e-mail task body, run by Dramatiq instead of Celery."""
    from project.tasks.email import EmailJob
    from project.tasks.email import send_email as typed_send_email

    typed_send_email(EmailJob.model_validate(job))


def push(actor: Any, payloads: list[dict[str, Any]]) -> None:
    """Enqueue many messages in one pipeline, as Dramatiq's own enqueue writes them."""
    from uuid import uuid4

    queue = f"{NAMESPACE}:{actor.queue_name}"
    with broker.client.pipeline(transaction=False) as pipe:
        for payload in payloads:
            message = actor.message(payload).copy(
                options={"redis_message_id": str(uuid4())}
            )
            pipe.hset(
                f"{queue}.msgs", message.options["redis_message_id"], message.encode()
            )
            pipe.rpush(queue, message.options["redis_message_id"])
        pipe.execute()
