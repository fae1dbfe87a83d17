"""Payload and result models must not hold secrets: they are stored in Redis.

pydantic writes a SecretStr as `**********` in JSON, so a secret in a payload would
reach the worker as asterisks; and if it did not, it would sit in the broker, the
result backend and Flower. A task declaring one is refused at import.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

SECRET_TYPES = (SecretStr, SecretBytes)


def secret_fields(model: type[BaseModel]) -> list[str]:
    """Dotted paths of every SecretStr/SecretBytes field, nested models included."""
    found: list[str] = []
    _walk(model, "", found, set())
    return found


def _walk(
    model: type[BaseModel], prefix: str, found: list[str], seen: set[type]
) -> None:
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        for annotation in _annotations(field.annotation):
            path = f"{prefix}{name}"
            if isinstance(annotation, type) and issubclass(annotation, SECRET_TYPES):
                found.append(path)
            elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
                _walk(annotation, f"{path}.", found, seen)


def _annotations(annotation: Any) -> list[Any]:
    """The annotation and every type nested in it (unions, lists, Annotated...)."""
    result = [annotation]
    for argument in typing.get_args(annotation):
        result.extend(_annotations(argument))
    return result
