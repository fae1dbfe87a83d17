"""Wrong task declarations are refused at import, naming the function and the fix."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from project.errors import DeclarationError
from project.typed import typed_task


class Payload(BaseModel):
    value: int


class Result(BaseModel):
    value: int


def test_a_function_without_a_parameter_is_refused() -> None:
    with pytest.raises(
        DeclarationError, match=r"no_param.*exactly one parameter.*none"
    ):

        @typed_task(name="tests.no_param")  # type: ignore[arg-type]
        def no_param() -> Result:
            return Result(value=1)


def test_a_function_with_several_parameters_is_refused() -> None:
    with pytest.raises(DeclarationError, match=r"two_params.*exactly one parameter"):

        @typed_task(name="tests.two_params")  # type: ignore[arg-type]
        def two_params(a: Payload, b: Payload) -> Result:
            return Result(value=a.value + b.value)


def test_a_parameter_that_is_not_a_model_is_refused() -> None:
    with pytest.raises(DeclarationError, match=r"not_model.*'number'.*int.*BaseModel"):

        @typed_task(name="tests.not_model")  # type: ignore[type-var]
        def not_model(number: int) -> Result:
            return Result(value=number)


def test_a_missing_return_annotation_is_refused() -> None:
    with pytest.raises(DeclarationError, match=r"no_return.*no return annotation"):

        @typed_task(name="tests.no_return")
        def no_return(payload: Payload):  # type: ignore[no-untyped-def]
            return Result(value=payload.value)


def test_a_return_type_that_is_not_a_model_is_refused() -> None:
    with pytest.raises(DeclarationError, match=r"returns dict.*not a pydantic model"):

        @typed_task(name="tests.returns_dict")  # type: ignore[type-var]
        def returns_dict(payload: Payload) -> dict[str, int]:
            return {"value": payload.value}


def test_keyword_only_parameters_are_refused() -> None:
    with pytest.raises(DeclarationError, match="exactly one parameter"):

        @typed_task(name="tests.keyword_only")  # type: ignore[arg-type]
        def keyword_only(*, payload: Payload) -> Result:
            return Result(value=payload.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "send_email"}, "not a stable dotted name"),
        ({"name": "project.tasks.email.Send"}, "not a stable dotted name"),
        (
            {"name": "tests.queue", "queue": "emial"},
            "queue 'emial', which is not declared",
        ),
        (
            {"name": "tests.limits", "soft_time_limit_s": 60, "time_limit_s": 30},
            "must be above 0 and below time_limit_s",
        ),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        typed_task(**options)  # type: ignore[arg-type]


def test_a_second_task_with_the_same_name_is_refused() -> None:
    import project.tasks.email  # noqa: F401 - declares email.send

    with pytest.raises(DeclarationError, match=r"'email\.send' is declared twice"):

        @typed_task(name="email.send")
        def impostor(payload: Payload) -> Result:
            return Result(value=payload.value)


def test_a_task_may_return_none() -> None:
    @typed_task(name="tests.returns_none")
    def returns_none(payload: Payload) -> None:
        return None

    assert returns_none.result_type is None
    assert returns_none.payload_type is Payload
    assert returns_none.celery_task.name == "tests.returns_none"
