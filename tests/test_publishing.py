"""The call site validates: nothing reaches the broker when a payload is invalid.

No worker runs in this module, so whatever is published stays in the queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from project.errors import PayloadInvalid
from project.tasks.email import EmailJob, EmailTemplate, send_email
from tests.support.cli import empty_queue, pushes


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    yield from empty_queue(redis_url, "email")


def test_a_valid_payload_is_published_once(broker: redis.Redis) -> None:
    handle = send_email.delay(
        EmailJob(user_id="u", email="a@example.com", template="welcome")
    )

    [raw] = broker.lrange("email", 0, -1)
    envelope = json.loads(raw)
    assert envelope["headers"]["task"] == "email.send"
    assert envelope["headers"]["id"] == handle.id
    assert envelope["content-type"] == "application/json"
    assert "a@example.com" not in envelope["headers"]["argsrepr"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"user_id": "u", "email": "not-an-address", "template": "welcome"}, "email"),
        ({"user_id": "u", "email": "a@example.com", "template": "goodbye"}, "template"),
        ({"email": "a@example.com", "template": "welcome"}, "user_id"),
        ('{"user_id": "u", "email": ', "(payload)"),
    ],
)
def test_an_invalid_mapping_publishes_nothing(
    broker: redis.Redis, data: Any, field: str
) -> None:
    before = pushes(broker)

    with pytest.raises(PayloadInvalid) as raised:
        send_email.delay_data(data)

    locations = {
        ".".join(map(str, e["loc"])) or "(payload)" for e in raised.value.errors
    }
    assert field in locations
    assert broker.llen("email") == 0
    assert pushes(broker) == before


def test_a_model_of_another_type_publishes_nothing(broker: redis.Redis) -> None:
    from project.tasks.accounts import Signup

    before = pushes(broker)
    other = Signup(type="signup", user_id="u", email="a@example.com")

    with pytest.raises(PayloadInvalid, match="expected an instance of EmailJob"):
        send_email.delay(other)  # type: ignore[arg-type]

    assert pushes(broker) == before


def test_a_model_built_without_validation_publishes_nothing(
    broker: redis.Redis,
) -> None:
    before = pushes(broker)
    unchecked = EmailJob.model_construct(
        user_id="u", email="nobody", template=EmailTemplate.WELCOME
    )

    with pytest.raises(PayloadInvalid) as raised:
        send_email.delay(unchecked)

    assert [e["loc"] for e in raised.value.errors] == [["email"]]
    assert pushes(broker) == before
