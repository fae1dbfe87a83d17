"""The dead-letter store against a real Redis: add, read, bound, delete, purge."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from project.deadletter import DeadLetter, DeadLetterStore, Reason

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(redis_url: str) -> Iterator[DeadLetterStore]:
    """A store of its own, under a prefix no other test uses."""
    client = redis.Redis.from_url(redis_url)
    prefix = f"test:{uuid.uuid4().hex}:"
    yield DeadLetterStore(client, max_entries=3, prefix=prefix)
    client.delete(*client.keys(prefix + "*") or [prefix])
    client.close()


def letter(
    number: int, *, task: str = "email.send", reason: Reason = Reason.PERMANENT_ERROR
) -> DeadLetter:
    failed = NOW - timedelta(days=10 - number)
    return DeadLetter(
        id=f"id-{number}",
        task=task,
        payload={"n": number},
        reason=reason,
        error_type="SMTPRecipientsRefused",
        error_message="550 no such user",
        traceback="Traceback (most recent call last): ...",
        attempts=1,
        first_failed_at=failed,
        last_failed_at=failed,
    )


def test_a_dead_letter_reads_back_as_stored(store: DeadLetterStore) -> None:
    store.add(letter(1))
    assert store.get("id-1") == letter(1)
    assert store.get("id-unknown") is None
    assert store.count() == 1


def test_the_same_task_id_replaces_its_dead_letter(store: DeadLetterStore) -> None:
    store.add(letter(1))
    store.add(letter(1).model_copy(update={"attempts": 2}))
    assert store.count() == 1
    stored = store.get("id-1")
    assert stored is not None
    assert stored.attempts == 2


def test_entries_are_newest_first_and_filter_by_task_and_reason(
    store: DeadLetterStore,
) -> None:
    store.add(letter(1, task="email.send"))
    store.add(letter(2, task="reports.daily", reason=Reason.WORKER_LOST))
    store.add(letter(3, task="email.send", reason=Reason.WORKER_LOST))

    assert [x.id for x in store.entries()] == ["id-3", "id-2", "id-1"]
    assert [x.id for x in store.entries(task="email.send")] == ["id-3", "id-1"]
    assert [x.id for x in store.entries(reason="worker-lost")] == ["id-3", "id-2"]
    assert [
        x.id for x in store.entries(task="email.send", reason=Reason.WORKER_LOST)
    ] == ["id-3"]


def test_the_store_keeps_at_most_its_bound_dropping_the_oldest(
    store: DeadLetterStore,
) -> None:
    for number in range(1, 5):
        dropped = store.add(letter(number))
    assert dropped == 1
    assert store.count() == 3
    assert store.get("id-1") is None
    assert [x.id for x in store.entries()] == ["id-4", "id-3", "id-2"]


def test_delete_removes_one(store: DeadLetterStore) -> None:
    store.add(letter(1))
    assert store.delete("id-1") is True
    assert store.delete("id-1") is False
    assert store.entries() == []


def test_purge_removes_those_older_than_an_age_and_is_idempotent(
    store: DeadLetterStore,
) -> None:
    # Given dead letters that failed 9, 8 and 7 days before NOW
    for number in (1, 2, 3):
        store.add(letter(number))

    # When those older than 7.5 days are purged, twice
    first = store.purge(older_than=timedelta(days=7, hours=12), now=NOW)
    second = store.purge(older_than=timedelta(days=7, hours=12), now=NOW)

    # Then the two oldest went the first time and nothing the second
    assert (first, second) == (2, 0)
    assert [x.id for x in store.entries()] == ["id-3"]
    assert store.purge() == 1
    assert store.count() == 0


def test_a_bound_below_one_is_refused(redis_url: str) -> None:
    with pytest.raises(ValueError, match="max_entries must be 1 or more"):
        DeadLetterStore(redis.Redis.from_url(redis_url), max_entries=0)
