"""The payload and result contract of one task: JSON in, models out, and back.

Everything goes through JSON, because JSON is what travels: a payload is dumped
with the declared model's serializer (so a subclass adds no undeclared fields and
aliases are used), and every check validates that JSON in pydantic's JSON mode, the
mode a strict model accepts UUIDs, dates and decimals as strings in. What the
producer checks is therefore exactly what the worker will see, and the other way
round for results.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from project.errors import FieldErrors, PayloadInvalid, ResultInvalid

# What serializing a value can raise besides ValidationError: an object pydantic
# cannot serialize, a cycle, bytes that are not UTF-8, a non-JSON value in a mapping.
SERIALIZATION_ERRORS = (
    PydanticSerializationError,
    ValueError,
    TypeError,
    UnicodeError,
    RecursionError,
)


class Contract:
    """Checks payloads and results of the task called `name` against its models."""

    def __init__(
        self,
        name: str,
        payload_type: type[BaseModel],
        result_type: type[BaseModel] | None,
    ) -> None:
        self.name = name
        self.payload_type = payload_type
        self.result_type = result_type
        self._payload = TypeAdapter(payload_type)
        self._result = TypeAdapter(result_type) if result_type else None

    # -- payloads ----------------------------------------------------------------

    def dump_payload(self, payload: Any) -> Any:
        """The JSON form of a payload model, checked to be one the worker accepts."""
        if not isinstance(payload, self.payload_type):
            raise PayloadInvalid(self.name, [type_error(self.payload_type, payload)])
        try:
            text = self._payload.dump_json(payload, by_alias=True, warnings=False)
        except SERIALIZATION_ERRORS as exc:
            raise PayloadInvalid(self.name, [serialization_error(exc)]) from None
        # A model can be built without validation (model_construct) or changed
        # after it: check the JSON form, which is what the worker will see.
        self.parse_json(text)
        return json.loads(text)

    def parse_json(self, text: str | bytes) -> Any:
        """The payload model from JSON text, or PayloadInvalid."""
        try:
            return self.payload_type.model_validate_json(text)
        except ValidationError as exc:
            raise PayloadInvalid(self.name, field_errors(exc)) from None

    def parse_data(self, data: Mapping[str, Any] | str | bytes) -> Any:
        """The payload model from JSON text, or from JSON data (as `json.loads` gives).

        Validating in JSON mode keeps strict models and aliases working exactly as
        they do for the producer.
        """
        if isinstance(data, str | bytes):
            return self.parse_json(data)
        return self.parse_value(dict(data) if isinstance(data, Mapping) else data)

    def parse_value(self, data: Any) -> Any:
        """The payload model from a decoded JSON value: what a message carries."""
        try:
            text = json.dumps(data, allow_nan=False)
        except SERIALIZATION_ERRORS as exc:
            raise PayloadInvalid(self.name, [serialization_error(exc)]) from None
        return self.parse_json(text)

    # -- results -----------------------------------------------------------------

    def dump_result(self, result: Any) -> Any:
        """The JSON form of what the function returned, validated against the model."""
        expected = self.result_type
        if expected is None or self._result is None:
            if result is not None:
                raise ResultInvalid(self.name, [none_error(result)])
            return None
        if isinstance(result, BaseModel) and not isinstance(result, expected):
            raise ResultInvalid(self.name, [type_error(expected, result)])
        try:
            if isinstance(result, BaseModel):
                text = self._result.dump_json(result, by_alias=True, warnings=False)
            else:
                text = json.dumps(result, allow_nan=False).encode()
            checked = expected.model_validate_json(text)
            return json.loads(self._result.dump_json(checked, by_alias=True))
        except ValidationError as exc:
            raise ResultInvalid(self.name, field_errors(exc)) from None
        except SERIALIZATION_ERRORS as exc:
            raise ResultInvalid(self.name, [serialization_error(exc)]) from None

    def load_result(self, data: Any) -> Any:
        """The result model from its stored JSON form, or ResultInvalid."""
        if self.result_type is None:
            if data is not None:
                raise ResultInvalid(self.name, [none_error(data)])
            return None
        try:
            return self.result_type.model_validate_json(json.dumps(data))
        except ValidationError as exc:
            raise ResultInvalid(self.name, field_errors(exc)) from None
        except SERIALIZATION_ERRORS as exc:
            raise ResultInvalid(self.name, [serialization_error(exc)]) from None


def field_errors(exc: ValidationError) -> FieldErrors:
    """pydantic's errors as plain JSON, without the rejected input values."""
    errors: FieldErrors = json.loads(exc.json(include_url=False, include_input=False))
    return errors


def error(kind: str, message: str, loc: tuple[str | int, ...] = ()) -> dict[str, Any]:
    return {"type": kind, "loc": list(loc), "msg": message}


def type_error(expected: type[BaseModel], got: object) -> dict[str, Any]:
    return error(
        "model_type",
        f"expected an instance of {expected.__name__}, got {type(got).__name__};"
        " build the model first, or pass JSON data to delay_data()",
    )


def none_error(got: object) -> dict[str, Any]:
    return error(
        "none_required", f"the task declares no result, got {type(got).__name__}"
    )


def serialization_error(exc: BaseException) -> dict[str, Any]:
    return error("serialization", f"cannot be written as JSON: {exc}")
