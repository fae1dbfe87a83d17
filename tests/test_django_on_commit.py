"""`delay_on_commit` and the Django example's view, checked at the queue itself.

No worker runs in this module: what a transaction enqueued stays in Redis, so
the tests can see exactly when a message appears, and that a rollback leaves none.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from project.django import delay_on_commit
from project.errors import PayloadInvalid
from project.tasks.email import EmailJob, EmailTemplate, send_email
from tests.support.django_db import django_database  # noqa: F401

pytestmark = pytest.mark.usefixtures("django_database")

QUEUE = "email"


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    # Later modules run workers: leave them nothing of ours to send.
    client.delete(QUEUE)
    client.close()


@pytest.fixture
def atomic() -> Any:
    from django.db import transaction  # type: ignore[import-untyped]

    return transaction.atomic


def queued_ids(broker: redis.Redis) -> list[str]:
    return [json.loads(raw)["headers"]["id"] for raw in broker.lrange(QUEUE, 0, -1)]


def job(tag: str) -> EmailJob:
    return EmailJob(
        user_id=tag, email=f"{tag}@example.com", template=EmailTemplate.WELCOME
    )


def enqueue_then_fail(atomic: Any, tag: str) -> str:
    """Enqueue in a transaction (or savepoint) that then fails; return the id."""
    task_ids = []
    with contextlib.suppress(RuntimeError), atomic():
        task_ids.append(delay_on_commit(send_email, job(tag)).id)
        raise RuntimeError("the request failed after enqueueing")
    assert len(task_ids) == 1
    return task_ids[0]


def test_the_message_is_published_only_after_the_commit(
    atomic: Any, broker: redis.Redis
) -> None:
    with atomic():
        handle = delay_on_commit(send_email, job("commit"))
        assert handle.id not in queued_ids(broker)

    assert handle.id in queued_ids(broker)
    assert handle.status == "PENDING"


def test_a_rollback_publishes_nothing(atomic: Any, broker: redis.Redis) -> None:
    before = broker.llen(QUEUE)

    task_id = enqueue_then_fail(atomic, "rollback")

    assert task_id not in queued_ids(broker)
    assert broker.llen(QUEUE) == before


def test_a_rolled_back_savepoint_drops_only_its_own_task(
    atomic: Any, broker: redis.Redis
) -> None:
    with atomic():
        kept = delay_on_commit(send_email, job("outer"))
        dropped = enqueue_then_fail(atomic, "inner")

    ids = queued_ids(broker)
    assert kept.id in ids
    assert dropped not in ids


def test_an_invalid_payload_fails_inside_the_transaction(
    atomic: Any, broker: redis.Redis
) -> None:
    bad = EmailJob.model_construct(
        user_id="x", email="not an address", template=EmailTemplate.WELCOME
    )
    before = broker.llen(QUEUE)

    with pytest.raises(PayloadInvalid, match="email"), atomic():
        delay_on_commit(send_email, bad)

    assert broker.llen(QUEUE) == before


def post(body: object) -> Any:
    from django.test import Client  # type: ignore[import-untyped]

    return Client().post(
        "/signup", data=json.dumps(body), content_type="application/json"
    )


def user_exists(username: str) -> bool:
    from django.contrib.auth.models import User  # type: ignore[import-untyped]

    return bool(User.objects.filter(username=username).exists())


def test_a_dry_run_signup_keeps_no_row_and_enqueues_nothing(
    broker: redis.Redis,
) -> None:
    before = broker.llen(QUEUE)

    response = post({"username": "dry", "email": "dry@example.com", "dry_run": True})

    assert response.status_code == 200
    assert not user_exists("dry")
    assert broker.llen(QUEUE) == before


def test_a_taken_username_is_refused_and_enqueues_nothing(
    broker: redis.Redis,
) -> None:
    first = post({"username": "taken", "email": "taken@example.com"})
    before = broker.llen(QUEUE)

    second = post({"username": "taken", "email": "other@example.com"})

    assert first.status_code == 201
    assert second.status_code == 409
    assert broker.llen(QUEUE) == before


def test_an_invalid_signup_names_the_fields() -> None:
    response = post({"username": "", "email": "nope"})

    assert response.status_code == 422
    fields = {tuple(field["loc"]) for field in response.json()["fields"]}
    assert fields == {("username",), ("email",)}


def test_database_settings_come_from_database_url(tmp_path: Path) -> None:
    from examples.django_app.settings import database_from_url

    sqlite = database_from_url(None, tmp_path / "db.sqlite3")
    postgres = database_from_url(
        "postgresql://app:s%40cret@db:5433/shop", sqlite_path=tmp_path
    )

    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert (postgres["NAME"], postgres["USER"], postgres["PASSWORD"]) == (
        "shop",
        "app",
        "s@cret",
    )
    assert (postgres["HOST"], postgres["PORT"]) == ("db", "5433")
    with pytest.raises(ValueError, match="must start with postgresql://"):
        database_from_url("mysql://db/shop", tmp_path)
