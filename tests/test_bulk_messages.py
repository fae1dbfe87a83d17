"""`delay_many` writes the messages `.delay()` writes: compared at rest, no worker.

These tests publish to the `reports` queue (no task of the app uses it here and no
worker runs in this module), read the raw messages back from Redis and compare
them field by field with a message that Celery itself published.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from click.testing import CliRunner

from project.cli import main
from project.errors import PayloadInvalid
from project.tasks.email import EmailJob, EmailTemplate, send_email
from project.typed.bulk import PartlyPublished, delay_many
from tests.support.cli import empty_queue

QUEUE = "reports"
# Differ per message by nature: ids, the delivery tag, the masked payload text,
# the publish time stamp of project.health.
PER_MESSAGE = {"id", "root_id", "correlation_id", "delivery_tag", "argsrepr", "sent_at"}


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    yield from empty_queue(redis_url, QUEUE)


def job(number: int) -> EmailJob:
    return EmailJob(
        user_id=f"user-{number}",
        email=f"bulk-{number}@example.com",
        template=EmailTemplate.WELCOME,
    )


def messages(client: redis.Redis) -> list[dict[str, Any]]:
    """Queued messages in the order a worker takes them (it pops the right end)."""
    raw = client.lrange(QUEUE, 0, -1)
    return [json.loads(item) for item in reversed(raw)]


def flatten(message: dict[str, Any]) -> dict[str, Any]:
    fields = {
        key: value
        for key, value in message.items()
        if key not in ("headers", "properties")
    }
    fields.update(message["headers"])
    fields.update(message["properties"])
    fields["body"] = json.loads(base64.b64decode(message["body"]))
    return fields


def test_bulk_messages_match_a_delay_message(broker: redis.Redis) -> None:
    # Given one message from .delay() and two from delay_many
    single = send_email.apply_async(job(0), queue=QUEUE)
    bulk = send_email.delay_many([job(1), job(2)], queue=QUEUE)

    # Then every field agrees except those unique to each message
    queued = [flatten(message) for message in messages(broker)]
    assert [item["id"] for item in queued] == [single.id] + [h.id for h in bulk]
    reference = queued[0]
    for item in queued[1:]:
        assert item.keys() == reference.keys()
        for key in reference.keys() - PER_MESSAGE - {"body"}:
            assert item[key] == reference[key], key
        assert item["correlation_id"] == item["root_id"] == item["id"]
        assert "@" not in item["argsrepr"].replace("***@", "")
    # and the body is the payload's JSON form, the single positional argument
    assert queued[1]["body"] == [
        [job(1).model_dump(mode="json")],
        {},
        {"callbacks": None, "errbacks": None, "chain": None, "chord": None},
    ]


def test_chunks_keep_the_order(broker: redis.Redis) -> None:
    handles = send_email.delay_many(
        [job(n) for n in range(7)], queue=QUEUE, chunk_size=3
    )

    queued = messages(broker)
    assert [message["headers"]["id"] for message in queued] == [h.id for h in handles]
    users = [flatten(message)["body"][0][0]["user_id"] for message in queued]
    assert users == [f"user-{n}" for n in range(7)]


def test_one_invalid_payload_publishes_nothing(broker: redis.Redis) -> None:
    broken = job(3).model_copy(update={"email": "not an address"})

    with pytest.raises(PayloadInvalid) as caught:
        send_email.delay_many([job(1), job(2), job(3), broken], queue=QUEUE)

    assert caught.value.errors[0]["loc"][:2] == [3, "email"]
    assert "3.email" in str(caught.value)
    assert broker.llen(QUEUE) == 0


def test_an_undeclared_queue_is_refused(broker: redis.Redis) -> None:
    with pytest.raises(ValueError, match="queue 'nowhere' is not declared"):
        send_email.delay_many([job(1)], queue="nowhere")


def test_a_single_payload_instead_of_a_list_is_refused(broker: redis.Redis) -> None:
    # A model is iterable (its field tuples); it must not be taken apart.
    with pytest.raises(TypeError, match="wrap a single payload in a list"):
        send_email.delay_many(job(1), queue=QUEUE)  # type: ignore[arg-type]

    assert broker.llen(QUEUE) == 0


@pytest.mark.parametrize("size", [0, -1, True, 2.5])
def test_a_chunk_size_that_is_not_a_positive_whole_number_is_refused(
    broker: redis.Redis, size: Any
) -> None:
    with pytest.raises((TypeError, ValueError), match="chunk_size must be"):
        send_email.delay_many([job(1)], queue=QUEUE, chunk_size=size)

    assert broker.llen(QUEUE) == 0


def test_task_sent_events_reach_an_event_receiver(app: Any, redis_url: str) -> None:
    # Given a Celery event receiver, as Flower runs one
    seen: list[str] = []

    def on_sent(event: dict[str, Any]) -> None:
        seen.append(event["uuid"])
        receiver.should_stop = len(seen) >= 3

    client = redis.Redis.from_url(redis_url)
    patterns_before = _pattern_subscriptions(client)
    with app.connection_for_read() as connection:
        receiver = app.events.Receiver(connection, handlers={"task-sent": on_sent})
        thread = threading.Thread(
            target=receiver.capture, kwargs={"timeout": 30}, daemon=True
        )
        thread.start()
        _wait_for_subscriber(client, patterns_before)

        # When a bulk call publishes three tasks
        handles = send_email.delay_many([job(n) for n in range(3)], queue=QUEUE)
        thread.join(timeout=30)
        client.delete(QUEUE)
        client.close()

    # Then one event message carried a task-sent event for each of them
    assert seen == [handle.id for handle in handles]


def _pattern_subscriptions(client: redis.Redis) -> int:
    # Per client, unlike PUBSUB NUMPAT, which counts each distinct pattern once.
    return sum(int(entry.get("psub", 0)) for entry in client.client_list())


def _wait_for_subscriber(client: redis.Redis, patterns_before: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if _pattern_subscriptions(client) > patterns_before:
            return
        time.sleep(0.05)
    raise TimeoutError("the event receiver never subscribed")


def test_cli_refuses_a_file_with_an_invalid_line(
    broker: redis.Redis, tmp_path: Any
) -> None:
    lines = [job(1).model_dump_json(), "", '{"user_id": "x", "email": "nope"}']
    path = tmp_path / "payloads.jsonl"
    path.write_text("\n".join(lines) + "\n")
    before = broker.llen("email")

    outcome = CliRunner().invoke(main, ["send", "email.send", "--from-file", str(path)])

    assert outcome.exit_code == 2
    assert "line 3: email:" in outcome.output
    assert "line 3: template: Field required" in outcome.output
    assert broker.llen("email") == before


def test_cli_wants_either_a_payload_or_a_file() -> None:
    outcome = CliRunner().invoke(main, ["send", "email.send"])

    assert outcome.exit_code == 2
    assert "either a JSON payload or --from-file" in outcome.output


def test_a_broker_failure_part_way_reports_what_was_queued(
    broker: redis.Redis,
) -> None:
    # Given a Redis that starts refusing writes after the first chunk
    def refuse_writes(count: int) -> None:
        broker.config_set("min-replicas-to-write", 1)

    try:
        with pytest.raises(PartlyPublished) as caught:
            delay_many(
                send_email,
                [job(n) for n in range(5)],
                queue=QUEUE,
                chunk_size=2,
                on_published=refuse_writes,
            )
    finally:
        broker.config_set("min-replicas-to-write", 0)

    # Then the error says what was queued, and exactly those messages are there
    assert "2 of 5 email.send messages were enqueued" in str(caught.value)
    queued = [message["headers"]["id"] for message in messages(broker)]
    assert queued == caught.value.task_ids
