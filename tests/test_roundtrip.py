"""Every supported type survives producer -> Redis -> worker -> result, exactly."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from project.errors import PayloadInvalid, ResultInvalid
from project.typed import typed_task
from tests.support.raw_message import stored_result


class Colour(Enum):
    RED = "red"
    GREEN = "green"


class Line(BaseModel):
    sku: uuid.UUID
    price: Decimal
    quantity: int


class Card(BaseModel):
    kind: Literal["card"]
    last4: str


class Transfer(BaseModel):
    kind: Literal["transfer"]
    iban: str


class Everything(BaseModel):
    id: uuid.UUID
    at: datetime
    day: date
    amount: Decimal
    colour: Colour
    line: Line
    lines: list[Line]
    note: str | None
    absent: str | None = None
    method: Annotated[Card | Transfer, Field(discriminator="kind")]


class Count(BaseModel):
    value: int = Field(ge=0)


@typed_task(name="tests.echo")
def echo(order: Everything) -> Everything:
    return order


@typed_task(name="tests.bad_result")
def bad_result(payload: Count) -> Count:
    # A model changed after validation: the worker must catch it before storing.
    result = Count(value=payload.value)
    object.__setattr__(result, "value", -1)
    return result


@typed_task(name="tests.nothing")
def nothing(payload: Count) -> None:
    return None


def everything() -> Everything:
    return Everything(
        id=uuid.uuid4(),
        at=datetime(
            2026,
            3,
            29,
            1,
            30,
            15,
            123456,
            tzinfo=timezone(timedelta(hours=5, minutes=30)),
        ),
        day=date(2024, 2, 29),
        # More digits than a float holds: any float on the way would lose them.
        amount=Decimal("12345678901234567890.000000000000000001"),
        colour=Colour.GREEN,
        line=Line(sku=uuid.uuid4(), price=Decimal("0.10"), quantity=3),
        lines=[
            Line(sku=uuid.uuid4(), price=Decimal("1E+2"), quantity=1),
            Line(sku=uuid.uuid4(), price=Decimal("-0.000"), quantity=0),
        ],
        note=None,
        method=Transfer(kind="transfer", iban="DE89370400440532013000"),
    )


def test_every_type_comes_back_equal(worker: Any) -> None:
    sent = everything()

    received = echo.delay(sent).get(timeout=30)

    assert received == sent
    assert received.amount.as_tuple() == sent.amount.as_tuple()
    assert received.lines[0].price.as_tuple() == Decimal("1E+2").as_tuple()
    assert received.at.utcoffset() == timedelta(hours=5, minutes=30)
    assert isinstance(received.method, Transfer)
    assert received.colour is Colour.GREEN


def test_the_stored_result_holds_decimals_as_strings(
    worker: Any, redis_url: str
) -> None:
    handle = echo.delay(everything())
    handle.get(timeout=30)

    record = stored_result(redis_url, handle.id)

    assert record is not None
    assert record["status"] == "SUCCESS"
    assert record["result"]["amount"] == "12345678901234567890.000000000000000001"
    assert record["result"]["at"] == "2026-03-29T01:30:15.123456+05:30"


def test_positional_and_keyword_payloads_behave_the_same(worker: Any) -> None:
    sent = everything()
    data = sent.model_dump(mode="json")

    positional = echo.celery_task.apply_async(args=(data,))
    by_payload = echo.celery_task.apply_async(kwargs={"payload": data})
    by_name = echo.celery_task.apply_async(kwargs={"order": data})

    results = [
        echo.result(call.id).get(timeout=30)
        for call in (positional, by_payload, by_name)
    ]
    assert results == [sent, sent, sent]
    assert echo.delay(payload=sent).get(timeout=30) == sent


def test_an_invalid_result_fails_the_task_with_field_errors(worker: Any) -> None:
    handle = bad_result.delay(Count(value=3))

    with pytest.raises(ResultInvalid) as raised:
        handle.get(timeout=30)

    assert raised.value.task_name == "tests.bad_result"
    assert [error["loc"] for error in raised.value.errors] == [["value"]]
    assert raised.value.errors[0]["type"] == "greater_than_equal"
    assert handle.status == "FAILURE"


def test_an_invalid_payload_from_another_producer_fails_with_field_errors(
    worker: Any,
) -> None:
    call = echo.celery_task.apply_async(args=({"id": "not-a-uuid"},))

    with pytest.raises(PayloadInvalid) as raised:
        echo.result(call.id).get(timeout=30)

    fields = {error["loc"][0] for error in raised.value.errors}
    assert {"id", "at", "day", "amount", "colour", "line", "lines", "method"} <= fields
    assert "uuid" in next(e["type"] for e in raised.value.errors if e["loc"] == ["id"])


def test_a_task_without_result_returns_none(worker: Any) -> None:
    handle = nothing.delay(Count(value=1))

    assert handle.get(timeout=30) is None
    assert handle.successful()


def test_signatures_and_chains_carry_typed_payloads(worker: Any) -> None:
    from celery import chain

    first = everything()
    second = everything()

    workflow = chain(echo.s(first), echo.s(), echo.si(second))
    final = workflow.apply_async()

    assert echo.load_result(final.get(timeout=30)) == second
    assert echo.load_result(final.parent.get(timeout=30)) == first
