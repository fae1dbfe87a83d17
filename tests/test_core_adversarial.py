"""Hostile input against the typed task core: malformed messages, payloads that
cannot be written as JSON, secrets, addresses in odd places, broken settings.

Each test states the behaviour the core guarantees. The test of a malformed
message body stays last: if the guard against it ever breaks, it stops the
module's worker.
"""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

import pytest
import redis
from aiosmtpd.controller import Controller
from celery import signals
from celery.exceptions import TimeoutError as CeleryTimeoutError
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict, Field, RootModel, SecretStr

from project.errors import (
    ConfigurationError,
    DeclarationError,
    PayloadInvalid,
    ResultInvalid,
    ValidationFailed,
)
from project.logs import Redactor
from project.mail.address import mask_address, normalize_address
from project.mail.render import RenderedEmail
from project.mail.send import build_message, send_message
from project.queues import QUEUE_NAMES
from project.settings import load_settings
from project.tasks.accounts import handle_account_event
from project.tasks.email import EmailJob, EmailTemplate, send_email
from project.typed import typed_task
from project.typed.redact import redact
from tests.support.ports import free_port
from tests.support.raw_message import publish_raw, raw_envelope, stored_result
from tests.support.smtp import SmtpSink

# -- tasks of this module ------------------------------------------------------


class Count(BaseModel):
    value: int = Field(ge=0)


class Anything(BaseModel):
    value: object = None


class Money(BaseModel):
    amount: Decimal


class Blob(BaseModel):
    data: bytes


class Floaty(BaseModel):
    x: float | None = None
    make_nan: bool = False


class When(BaseModel):
    at: datetime


class Word(RootModel[str]):
    """A payload that is one JSON string."""


class Camel(BaseModel):
    """A model as a JavaScript producer would define it: camelCase on the wire."""

    user_id: str = Field(alias="userId")


class CamelResult(BaseModel):
    display_name: str = Field(alias="displayName")


class StrictOrder(BaseModel):
    model_config = ConfigDict(strict=True)

    id: uuid.UUID
    at: datetime
    amount: Decimal


class Credentials(BaseModel):
    token: SecretStr


class TokenSeen(BaseModel):
    tail: str


class Plain(BaseModel):
    text: str


class PlainWithPassword(Plain):
    password: str


class Greetings(BaseModel):
    by_address: dict[str, str]


class Pick(BaseModel):
    kind: Literal["dict", "other-model", "none", "good", "inner-invalid"]


class Inner(BaseModel):
    count: int = Field(ge=0)


class Raise(BaseModel):
    kind: Literal["object-arg", "custom-init"]


class OddError(Exception):
    """An exception whose constructor does not take its `args` back."""

    def __init__(self, first: Any, second: Any) -> None:
        super().__init__(first, second)


@typed_task(name="tests.adv_anything")
def adv_anything(payload: Anything) -> None:
    return None


@typed_task(name="tests.adv_money")
def adv_money(payload: Money) -> Money:
    return payload


@typed_task(name="tests.adv_blob")
def adv_blob(payload: Blob) -> None:
    return None


@typed_task(name="tests.adv_float")
def adv_float(payload: Floaty) -> Floaty:
    if payload.make_nan:
        return Floaty(x=math.nan)
    return payload


@typed_task(name="tests.adv_when")
def adv_when(payload: When) -> When:
    return payload


@typed_task(name="tests.adv_shout")
def adv_shout(payload: Word) -> Word:
    return Word(payload.root.upper())


@typed_task(name="tests.adv_camel")
def adv_camel(payload: Camel) -> CamelResult:
    return CamelResult(displayName=f"{payload.user_id}!")


@typed_task(name="tests.adv_strict")
def adv_strict(payload: StrictOrder) -> StrictOrder:
    return payload


@typed_task(name="tests.adv_plain")
def adv_plain(payload: Plain) -> None:
    return None


@typed_task(name="tests.adv_greetings")
def adv_greetings(payload: Greetings) -> None:
    return None


@typed_task(name="tests.adv_pick")
def adv_pick(payload: Pick) -> Count:
    if payload.kind == "dict":
        return cast(Count, {"value": "7"})
    if payload.kind == "other-model":
        return cast(Count, Plain(text="not a count"))
    if payload.kind == "none":
        return cast(Count, None)
    if payload.kind == "inner-invalid":
        Inner(count=-1)
    return Count(value=1)


@typed_task(name="tests.adv_returns_something")
def adv_returns_something(payload: Count) -> None:
    return cast(None, Count(value=payload.value))


@typed_task(name="tests.adv_raise")
def adv_raise(payload: Raise) -> None:
    if payload.kind == "object-arg":
        raise ValueError(object())
    raise OddError(1, {1, 2})


# -- helpers ---------------------------------------------------------------------


@pytest.fixture
def published() -> Iterator[list[dict[str, Any]]]:
    """Messages the test itself publishes (not the worker's threads): name,
    headers, body."""
    seen: list[dict[str, Any]] = []

    def receive(
        sender: Any = None, headers: Any = None, body: Any = None, **_: Any
    ) -> None:
        if threading.current_thread() is threading.main_thread():
            seen.append({"task": sender, "headers": dict(headers or {}), "body": body})

    signals.before_task_publish.connect(receive, weak=False)
    yield seen
    signals.before_task_publish.disconnect(receive)


def message_of(published: list[dict[str, Any]], task_id: str) -> dict[str, Any]:
    [found] = [item for item in published if item["headers"].get("id") == task_id]
    return found


def wait_for_record(redis_url: str, task_id: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = stored_result(redis_url, task_id)
        if record and record["status"] in {"SUCCESS", "FAILURE"}:
            return record
        time.sleep(0.05)
    raise TimeoutError(f"no final state for {task_id}")


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str | bytes) -> Any:
    """Parse JSON as RFC 8259 has it: NaN and Infinity are refused."""
    return json.loads(text, parse_constant=reject_constant)


def unchecked_job(**fields: Any) -> EmailJob:
    """An EmailJob built without validation, as model_construct allows."""
    return EmailJob.model_construct(**fields)


def unique_address(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}@example.com"


# == Producing: bad input at the call site ========================================


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xff\xfe\x00", id="non-utf8-bytes"),
        pytest.param(b'{"user_id": "\xff"}', id="non-utf8-inside-json"),
        pytest.param('{"user_id": "u", "email": ', id="truncated-json"),
        pytest.param("[1, 2]", id="json-list"),
        pytest.param("null", id="json-null"),
        pytest.param("1e999", id="json-huge-number"),
        pytest.param(
            '{"user_id": "\udcff", "email": "a@example.com", "template": "welcome"}',
            id="lone-surrogate",
        ),
        pytest.param(5, id="int"),
        pytest.param(None, id="none"),
        pytest.param(
            {"user_id": 5, "email": "a@example.com", "template": "welcome"},
            id="wrong-type",
        ),
        pytest.param(
            {"user_id": "u" * 201, "email": "a@example.com", "template": "welcome"},
            id="too-long",
        ),
    ],
)
def test_delay_data_refuses_bad_input_and_publishes_nothing(
    published: list[dict[str, Any]], data: Any
) -> None:
    with pytest.raises(PayloadInvalid) as raised:
        send_email.delay_data(data)

    assert raised.value.errors
    assert published == []


def test_delay_data_refuses_json_nested_too_deep(
    published: list[dict[str, Any]],
) -> None:
    deep = '{"value": ' + "[" * 5000 + "]" * 5000 + "}"

    with pytest.raises(PayloadInvalid, match="recursion limit"):
        adv_anything.delay_data(deep)

    assert published == []


def test_delay_data_accepts_any_mapping(
    worker: Any, published: list[dict[str, Any]]
) -> None:
    data = MappingProxyType({"value": 3})

    handle = adv_pick.delay_data({"kind": "good"})
    adv_anything.delay_data(data).get(timeout=30)

    assert handle.get(timeout=30) == Count(value=1)
    assert [item["task"] for item in published] == [
        "tests.adv_pick",
        "tests.adv_anything",
    ]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(None, id="none"),
        pytest.param(
            {"user_id": "u", "email": "a@example.com", "template": "welcome"},
            id="dict",
        ),
        pytest.param(Plain(text="x"), id="other-model"),
        pytest.param(
            unchecked_job(email="a@example.com", template="welcome"),
            id="constructed-missing-field",
        ),
        pytest.param(
            unchecked_job(user_id="u", email="a@example.com", template="goodbye"),
            id="constructed-bad-enum",
        ),
    ],
)
def test_delay_refuses_what_is_not_a_valid_payload_model(
    published: list[dict[str, Any]], payload: Any
) -> None:
    with pytest.raises(PayloadInvalid):
        send_email.delay(payload)

    assert published == []


def test_a_subclass_publishes_only_the_declared_fields(
    published: list[dict[str, Any]],
) -> None:
    class TaggedJob(EmailJob):
        campaign: str

    job = TaggedJob(
        user_id="u", email="a@example.com", template="welcome", campaign="spring"
    )

    handle = send_email.delay(job)

    args, _kwargs, _embed = message_of(published, handle.id)["body"]
    assert "campaign" not in args[0]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_decimal_nan_and_infinity_are_refused(
    published: list[dict[str, Any]], value: str
) -> None:
    with pytest.raises(ValueError, match="amount"):
        Money(amount=Decimal(value))
    with pytest.raises(PayloadInvalid, match="amount"):
        adv_money.delay_data({"amount": value})
    with pytest.raises(PayloadInvalid, match="amount"):
        adv_money.delay(Money.model_construct(amount=Decimal(value)))

    assert published == []


def _cyclic() -> Anything:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return Anything(value=loop)


@pytest.mark.parametrize(
    ("task_name", "payload"),
    [
        pytest.param(
            "email.send",
            unchecked_job(
                user_id=object(), email="a@example.com", template=EmailTemplate.WELCOME
            ),
            id="constructed-with-an-object",
        ),
        pytest.param("tests.adv_blob", Blob(data=b"\xff\x00"), id="non-utf8-bytes"),
        pytest.param("tests.adv_anything", _cyclic(), id="cyclic-value"),
        pytest.param(
            "tests.adv_anything", Anything(value={1, 2, object()}), id="set-of-objects"
        ),
    ],
)
def test_a_payload_that_cannot_be_serialized_raises_payload_invalid(
    published: list[dict[str, Any]], task_name: str, payload: BaseModel
) -> None:
    """A payload pydantic cannot write as JSON raises PayloadInvalid, never a raw
    serialization error that callers and the CLI do not expect."""
    from project.typed import get_task

    task = get_task(task_name)

    with pytest.raises(PayloadInvalid):
        task.delay(payload)

    assert published == []


def test_a_root_model_of_str_can_be_enqueued(worker: Any) -> None:
    """A RootModel[str] payload travels as a JSON string and is never mistaken for
    JSON text, at the call site or on the worker."""
    assert adv_shout.delay(Word("hello")).get(timeout=30) == Word("HELLO")


def test_models_with_aliases_round_trip(worker: Any) -> None:
    """Field aliases (camelCase on the wire) are used when dumping and when
    validating, so aliased payloads and results round-trip."""
    handle = adv_camel.delay(Camel(userId="u-1"))

    assert handle.get(timeout=30) == CamelResult(displayName="u-1!")


def test_strict_models_round_trip(worker: Any) -> None:
    """Strict models round-trip: their JSON form is validated in JSON mode, where
    UUIDs, datetimes and decimals are strings."""
    order = StrictOrder(
        id=uuid.uuid4(),
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        amount=Decimal("1.5"),
    )

    assert adv_strict.delay(order).get(timeout=30) == order


def test_a_task_whose_payload_holds_a_secret_is_refused() -> None:
    """pydantic writes a SecretStr as asterisks, and a secret in a message would
    sit in Redis and Flower: the declaration is refused, naming the field."""
    with pytest.raises(DeclarationError, match=r"Credentials has secret field.*token"):

        @typed_task(name="tests.adv_token")
        def adv_token(payload: Credentials) -> TokenSeen:
            return TokenSeen(tail=payload.token.get_secret_value()[-3:])


def test_a_subclass_payload_publishes_only_the_declared_fields(
    worker: Any, published: list[dict[str, Any]]
) -> None:
    """A subclass of the payload model is accepted, and only the fields the task
    declares are published."""
    handle = adv_plain.delay(PlainWithPassword(text="hello", password="hunter2"))
    handle.get(timeout=30)

    args, _kwargs, _embed = message_of(published, handle.id)["body"]
    assert args == [{"text": "hello"}] or args == ({"text": "hello"},)


# == Floats, decimals, datetimes ===================================================


def test_a_nan_payload_is_refused_or_published_as_json(
    worker: Any, published: list[dict[str, Any]]
) -> None:
    """A float Infinity never reaches the broker as the bare token Infinity, which
    no JSON reader in another language accepts."""
    try:
        handle = adv_float.delay(Floaty(x=math.inf))
    except PayloadInvalid:
        return
    body = message_of(published, handle.id)["body"]

    json.dumps(body, allow_nan=False)


def test_a_nan_result_is_refused_or_stored_as_json(worker: Any, redis_url: str) -> None:
    """A result holding NaN is refused rather than stored as invalid JSON."""
    handle = adv_float.delay(Floaty(x=1.0, make_nan=True))
    wait_for_record(redis_url, handle.id)
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.get(f"celery-task-meta-{handle.id}")
    finally:
        client.close()

    assert raw is not None
    strict_json(raw)


def test_finite_floats_round_trip_exactly(worker: Any) -> None:
    for value in (0.1 + 0.2, -0.0, 5e-324, 1.7976931348623157e308):
        assert adv_float.delay(Floaty(x=value)).get(timeout=30) == Floaty(x=value)


def test_naive_and_zoned_datetimes_keep_their_instant(worker: Any) -> None:
    naive = When(at=datetime(2026, 3, 29, 2, 30))
    zoned = When(at=datetime(2026, 7, 1, 12, tzinfo=ZoneInfo("Europe/Paris")))
    odd = When(
        at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-9, minutes=-30)))
    )

    back_naive = adv_when.delay(naive).get(timeout=30)
    back_zoned = adv_when.delay(zoned).get(timeout=30)

    # Naive stays naive (the model allows it); zone names become fixed offsets.
    assert back_naive == naive
    assert back_naive.at.tzinfo is None
    assert back_zoned == zoned
    assert back_zoned.at.utcoffset() == timedelta(hours=2)
    assert adv_when.delay(odd).get(timeout=30) == odd


# == Results =======================================================================


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("other-model", "model_type"),
        ("none", "model_type"),
    ],
)
def test_a_wrong_result_fails_with_result_invalid(
    worker: Any, kind: str, error: str
) -> None:
    handle = adv_pick.delay(Pick(kind=cast(Any, kind)))

    with pytest.raises(ResultInvalid) as raised:
        handle.get(timeout=30)

    assert raised.value.errors[0]["type"] == error
    assert handle.status == "FAILURE"


def test_a_dict_result_is_validated_and_coerced(worker: Any) -> None:
    assert adv_pick.delay(Pick(kind="dict")).get(timeout=30) == Count(value=7)


def test_a_value_from_a_task_declared_without_result_fails(worker: Any) -> None:
    with pytest.raises(ResultInvalid, match="declares no result"):
        adv_returns_something.delay(Count(value=1)).get(timeout=30)


def test_a_validation_error_inside_a_task_keeps_its_field_errors(
    worker: Any,
) -> None:
    """A pydantic ValidationError raised by the task's own code reaches the caller
    as DataInvalid, with its field errors."""
    handle = adv_pick.delay(Pick(kind="inner-invalid"))

    with pytest.raises(Exception, match="count"):
        handle.get(timeout=30)


def test_a_signup_the_email_job_refuses_fails_with_field_errors(
    worker: Any, published: list[dict[str, Any]]
) -> None:
    """Signup and EmailJob share the same length limits, so a name the e-mail job
    would refuse is refused at the call site, naming the field."""
    data = {
        "type": "signup",
        "user_id": "u-1",
        "email": unique_address("long.name"),
        "name": "n" * 300,
    }
    errors: list[dict[str, Any]] = []
    try:
        handle = handle_account_event.delay_data(data)
    except PayloadInvalid as exc:
        errors = exc.errors
        assert published == []
    else:
        with pytest.raises(ValidationFailed) as raised:
            handle.get(timeout=30)
        errors = raised.value.errors

    assert any("name" in map(str, error["loc"]) for error in errors)


def test_exceptions_with_arguments_that_are_not_json_reach_the_caller(
    worker: Any,
) -> None:
    with pytest.raises(ValueError, match="object object at"):
        adv_raise.delay(Raise(kind="object-arg")).get(timeout=30)
    with pytest.raises(OddError) as raised:
        adv_raise.delay(Raise(kind="custom-init")).get(timeout=30)
    assert raised.value.args == (1, "{1, 2}")


# == TypedResult.get() ============================================================


def test_get_on_an_unknown_id_with_timeout_zero_times_out_at_once(worker: Any) -> None:
    handle = send_email.result(str(uuid.uuid4()))
    started = time.monotonic()

    with pytest.raises(CeleryTimeoutError):
        handle.get(timeout=0)

    assert time.monotonic() - started < 2
    assert handle.status == "PENDING"


def test_get_on_an_expired_result_times_out_as_pending(
    worker: Any, redis_url: str
) -> None:
    # An expired result is indistinguishable from an unknown id: a documented limit.
    handle = adv_pick.delay(Pick(kind="good"))
    handle.get(timeout=30)
    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(f"celery-task-meta-{handle.id}")
    finally:
        client.close()

    again = adv_pick.result(handle.id)
    with pytest.raises(CeleryTimeoutError):
        again.get(timeout=0.5)
    assert again.status == "PENDING"


def test_get_through_the_wrong_task_raises_result_invalid(worker: Any) -> None:
    handle = adv_plain.delay(Plain(text="x"))
    handle.get(timeout=30)

    with pytest.raises(ResultInvalid):
        adv_pick.result(handle.id).get(timeout=5)


# == Raw protocol-2 messages ======================================================


def test_a_raw_message_for_an_unregistered_task_fails_with_not_registered(
    worker: Any, redis_url: str
) -> None:
    task_id = publish_raw(redis_url, "tests.no_such_task", "default", [{}])

    record = wait_for_record(redis_url, task_id)

    assert record["status"] == "FAILURE"
    assert record["result"]["exc_type"] == "NotRegistered"


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        pytest.param([], {}, id="no-arguments"),
        pytest.param([], {"unknown": {"user_id": "u"}}, id="unknown-keyword"),
        pytest.param([{}], {"payload": {}}, id="both"),
        pytest.param(
            [],
            {"user_id": "u", "email": "a@example.com", "template": "welcome"},
            id="spread-fields",
        ),
    ],
)
def test_a_raw_message_with_the_wrong_arguments_fails_with_payload_invalid(
    worker: Any, redis_url: str, args: list[Any], kwargs: dict[str, Any]
) -> None:
    task_id = publish_raw(redis_url, "email.send", "email", args, kwargs)

    with pytest.raises(PayloadInvalid, match="exactly one payload object"):
        send_email.result(task_id).get(timeout=30)


def test_a_raw_message_that_is_not_json_does_not_stop_the_worker(
    worker: Any, redis_url: str
) -> None:
    _task_id, envelope = raw_envelope("email.send", "email", [])
    envelope["body"] = base64.b64encode(b"\xff\xfe not json").decode()
    client = redis.Redis.from_url(redis_url)
    try:
        client.lpush("email", json.dumps(envelope))
    finally:
        client.close()

    after = send_email.delay(
        EmailJob(user_id="u", email=unique_address("after.garbage"), template="welcome")
    )

    assert after.get(timeout=30).message_id


# == Masking: argsrepr, logs, the result backend ==================================


def test_signatures_mask_the_address_in_argsrepr(
    worker: Any, published: list[dict[str, Any]]
) -> None:
    """`.s()` and `.si()` (and so chains) mask addresses in argsrepr as `.delay()`
    does."""
    address = unique_address("signature.person")
    job = EmailJob(user_id="u", email=address, template="welcome")

    by_s = send_email.s(job).apply_async()
    by_si = send_email.si(job).apply_async()
    by_s.get(timeout=30)
    by_si.get(timeout=30)

    for call in (by_s, by_si):
        assert address not in message_of(published, call.id)["headers"]["argsrepr"]


def test_argsrepr_of_a_large_payload_is_bounded(
    worker: Any, published: list[dict[str, Any]]
) -> None:
    """argsrepr stops at 1024 characters, as Celery's own does: a large payload is
    not sent twice."""
    handle = adv_plain.delay(Plain(text="lorem ipsum " * 20_000))
    handle.get(timeout=30)

    assert len(message_of(published, handle.id)["headers"]["argsrepr"]) <= 2048


def test_delay_with_a_long_token_is_not_quadratic(worker: Any) -> None:
    """Masking takes linear time: a long run without spaces or '@' (a token, base64)
    does not block `.delay()`."""
    started = time.monotonic()

    handle = adv_plain.delay(Plain(text="x" * 20_000))

    assert time.monotonic() - started < 1.0
    handle.get(timeout=30)


def test_a_log_line_with_a_long_token_is_redacted_in_linear_time() -> None:
    """The log redactor takes linear time on a long token too."""
    started = time.monotonic()

    Redactor(["Sup3rS3cretPw"])("token=" + "x" * 10_000)

    assert time.monotonic() - started < 1.0


def test_a_reset_link_token_is_hidden_in_argsrepr(
    worker: Any, published: list[dict[str, Any]]
) -> None:
    """The reset link is a bearer credential: its token is hidden in argsrepr."""
    job = EmailJob(
        user_id="u",
        email=unique_address("reset.person"),
        template="reset-password",
        reset_url="https://example.com/reset?token=s3cr3t-T0ken-42",
    )

    handle = send_email.delay(job)
    handle.get(timeout=30)

    assert (
        "s3cr3t-T0ken-42" not in message_of(published, handle.id)["headers"]["argsrepr"]
    )


def test_addresses_used_as_mapping_keys_are_masked_in_argsrepr(
    worker: Any, published: list[dict[str, Any]]
) -> None:
    """Addresses used as mapping keys are masked too."""
    address = unique_address("alice")

    handle = adv_greetings.delay(Greetings(by_address={address: "Alice"}))
    handle.get(timeout=30)

    assert address not in message_of(published, handle.id)["headers"]["argsrepr"]


@pytest.mark.parametrize(
    "address",
    [
        "john.smith'work@example.com",
        "john.smith&co@example.com",
        "john.smith!x@example.com",
    ],
)
def test_valid_addresses_are_masked_whole(address: str) -> None:
    """Apostrophe, & and ! are valid in a local part; the whole address is masked."""
    assert normalize_address(address) == address

    assert "john.smith" not in str(redact({"note": f"write to {address}"}))
    assert "john.smith" not in Redactor()(f"refused: {address}")


def test_a_refused_recipient_is_not_stored_in_clear(
    worker: Any, smtp: SmtpSink, redis_url: str
) -> None:
    """An SMTP refusal names the address; the stored failure, its traceback and the
    task-failed event carry it masked."""
    address = unique_address("refused.person")
    smtp.refuse_rcpt[address] = 550
    try:
        handle = send_email.delay(
            EmailJob(user_id="u", email=address, template="welcome")
        )
        record = wait_for_record(redis_url, handle.id, timeout_s=60)
    finally:
        smtp.refuse_rcpt.pop(address, None)

    assert record["status"] == "FAILURE"
    assert address not in json.dumps(record)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  User+Tag@EXAMPLE.COM ", "User+Tag@example.com"),
        ("jöhn@example.com", "jöhn@example.com"),
        ("user@MÜNCHEN.DE", "user@münchen.de"),
        ("user@xn--mnchen-3ya.de", "user@münchen.de"),
    ],
)
def test_addresses_are_normalized_and_masked(raw: str, normalized: str) -> None:
    assert normalize_address(raw) == normalized
    masked = mask_address(normalized)
    local, _, domain = normalized.partition("@")
    assert local not in masked
    assert domain.split(".")[0] not in masked
    assert local not in str(redact([normalized]))
    assert local not in Redactor()(f"to {normalized}")


def test_urls_with_passwords_are_hidden_in_log_lines() -> None:
    line = Redactor(["Sup3rS3cretPw"])(
        "connecting to redis://:Sup3rS3cretPw@10.0.0.1:6379/0 as amqp://u:pw@h//"
    )

    assert "Sup3rS3cretPw" not in line
    assert ":pw@" not in line


def test_a_unicode_local_part_is_delivered(worker: Any, smtp: SmtpSink) -> None:
    address = f"jöhn.{uuid.uuid4().hex[:6]}@example.com"

    send_email.delay(EmailJob(user_id="u", email=address, template="welcome")).get(
        timeout=30
    )

    assert smtp.wait_for(address)


class _Recipients:
    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen.append(list(envelope.rcpt_tos))
        return "250 OK"


def test_an_idn_domain_is_sent_in_ascii_form_without_smtputf8() -> None:
    """`user@bücher.de` is sent as user@xn--bcher-kva.de, so servers without
    SMTPUTF8 accept it."""
    handler = _Recipients()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False
    )
    controller.start()
    try:
        settings = load_settings(smtp_port=port)
        job = EmailJob(user_id="u", email="user@bücher.de", template="welcome")
        message = build_message(
            RenderedEmail(subject="Hi", text="Hello", html="<p>Hello</p>"),
            sender=settings.mail_from,
            recipient=job.email,
        )
        send_message(message, settings)
    finally:
        controller.stop()

    assert handler.seen == [["user@xn--bcher-kva.de"]]


# == Settings =====================================================================


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("smtp_port", "abc"),
        ("smtp_port", "0"),
        ("smtp_port", "65536"),
        ("mail_from", "Example App <app@example.com>"),
        ("redis_url", "http://user:Sup3rS3cretPw@cache:6379/0"),
        ("smtp_timeout_s", "nan"),
    ],
)
def test_a_strange_setting_stops_start_up_naming_the_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(**{variable: value})

    assert variable.upper() in str(raised.value)
    assert "Sup3rS3cretPw" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://:Sup3rS3cretPw@127.0.0.1:abc/0",
        "redis://127.0.0.1:99999/0",
        "redis://127.0.0.1:6379/not-a-db",
    ],
)
def test_a_redis_url_with_a_bad_port_or_db_stops_start_up(url: str) -> None:
    """A REDIS_URL with a bad port or database stops start-up naming REDIS_URL."""
    with pytest.raises(ConfigurationError) as raised:
        load_settings(redis_url=url)

    assert "REDIS_URL" in str(raised.value)
    assert "Sup3rS3cretPw" not in str(raised.value)


@pytest.mark.parametrize(
    "content",
    [b"", b"\n# nothing here\n", b"\xef\xbb\xbfAPP_NAME=With BOM\n"],
    ids=["empty", "comment-only", "utf8-bom"],
)
def test_an_empty_or_bom_dot_env_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    (tmp_path / ".env").write_bytes(content)
    monkeypatch.chdir(tmp_path)

    settings = load_settings()

    assert settings.smtp_port == int(os.environ["SMTP_PORT"])
    if b"BOM" in content:
        assert settings.app_name == "With BOM"


def test_a_dot_env_that_is_not_utf8_gives_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .env that is not UTF-8 stops start-up with a message naming the file and
    the encoding."""
    (tmp_path / ".env").write_bytes(b"APP_NAME=Caf\xe9\n")
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ConfigurationError):
        load_settings()


# == The CLI =======================================================================


@pytest.mark.parametrize(
    "text",
    [
        '{"user_id": "u", "email": ',
        "[]",
        "NaN",
        '{"user_id": "\udcff", "email": "a@example.com", "template": "welcome"}',
        '{"user_id": "u", "email": "a@example.com", "template": "welcome", "x": 1}',
    ],
    ids=["truncated", "list", "nan", "surrogate", "extra-field"],
)
def test_project_send_refuses_bad_json_with_exit_2(
    published: list[dict[str, Any]], text: str
) -> None:
    from project.cli import main

    done = CliRunner().invoke(main, ["send", "email.send", text])

    assert done.exit_code == 2, done.output
    assert "error: invalid payload for task email.send" in done.output
    assert published == []


def test_project_send_without_redis_prints_an_error_not_a_traceback() -> None:
    """With Redis down, `project send` prints one line and exits with code 1."""
    env = dict(os.environ)
    env["REDIS_URL"] = f"redis://:Sup3rS3cretPw@127.0.0.1:{free_port()}/0"
    payload = {"user_id": "u", "email": "a@example.com", "template": "welcome"}

    done = subprocess.run(
        [sys.executable, "-m", "project", "send", "email.send", json.dumps(payload)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )

    assert done.returncode == 1
    assert "Sup3rS3cretPw" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


# == Last: a message that stops the worker =========================================


def _remove_message(redis_url: str, task_id: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        for queue in QUEUE_NAMES:
            for raw in client.lrange(queue, 0, -1):
                if task_id.encode() in raw:
                    client.lrem(queue, 0, cast(Any, raw))
        for tag, raw in client.hgetall("unacked").items():
            if task_id.encode() in raw:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


def test_a_raw_message_whose_body_is_not_a_list_does_not_stop_the_worker(
    worker: Any, redis_url: str
) -> None:
    """A protocol-2 body that is a JSON object instead of [args, kwargs, embed]
    fails alone; the worker goes on with the next message."""
    task_id, envelope = raw_envelope("email.send", "email", [])
    payload = {"user_id": "u", "email": "a@example.com", "template": "welcome"}
    # The payload object itself as the body, instead of [args, kwargs, embed].
    body = json.dumps({"payload": payload}).encode()
    envelope["body"] = base64.b64encode(body).decode()
    client = redis.Redis.from_url(redis_url)
    try:
        client.lpush("email", json.dumps(envelope))
    finally:
        client.close()

    after: Any = None
    try:
        after = send_email.delay(
            EmailJob(
                user_id="u", email=unique_address("after.object"), template="welcome"
            )
        )
        assert after.get(timeout=20).message_id
    finally:
        _remove_message(redis_url, task_id)
        if after is not None:
            _remove_message(redis_url, after.id)
