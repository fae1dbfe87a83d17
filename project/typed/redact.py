"""Payload text for logs, events and Flower: e-mail addresses and secrets masked.

Celery puts `argsrepr` in every message and task event; by default it is the full
repr of the arguments. Ours is built from the payload's JSON form with addresses
masked and secret-looking fields hidden, so monitoring never shows personal data.
"""

from __future__ import annotations

import re
from typing import Any

from project.mail.address import mask_address

ADDRESS = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")
SECRET_KEYS = re.compile(r"pass|secret|token|key|auth|credential", re.IGNORECASE)


def redact(value: Any) -> Any:
    """A copy of a JSON value with addresses masked and secret fields hidden."""
    if isinstance(value, dict):
        return {
            key: "***" if SECRET_KEYS.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return ADDRESS.sub(lambda match: mask_address(match.group(0)), value)
    return value


def payload_repr(data: Any) -> str:
    """The `argsrepr` of a typed message: one redacted payload."""
    return repr((redact(data),))
