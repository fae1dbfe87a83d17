"""Payload text for logs, events and Flower: e-mail addresses and secrets masked.

Celery puts `argsrepr` in every message and task event; by default it is the full
repr of the arguments. Ours is built from the payload's JSON form with addresses
masked, secret-looking fields and URL parameters hidden, and a bounded length, so
monitoring never shows personal data and a large payload is not sent twice.
"""

from __future__ import annotations

import re
from typing import Any

from project.mail.address import mask_addresses

# Celery's own limit for argsrepr.
MAX_REPR = 1024
SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "secret",
        "token",
        "key",
        "apikey",
        "auth",
        "authorization",
        "credential",
        "credentials",
        "signature",
        "sig",
        "otp",
    }
)
_WORD_BREAK = re.compile(r"[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])")
# `?token=...`: the name class stops at every separator, so matching stays linear.
_QUERY_PARAMETER = re.compile(r"(?<=[?&;])([^=&#?;\s]{1,100})=([^&#;\s]+)")


def is_secret_name(name: str) -> bool:
    """`api_key`, `resetToken`, `password` are secret; `author`, `monkey` are not."""
    return any(word.lower() in SECRET_WORDS for word in _WORD_BREAK.split(name))


def redact(value: Any) -> Any:
    """A copy of a JSON value with addresses masked and secret fields hidden."""
    if isinstance(value, dict):
        return {
            mask_addresses(str(key)): "***"
            if is_secret_name(str(key))
            else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _hide_query_secrets(mask_addresses(value))
    return value


def payload_repr(data: Any) -> str:
    """The `argsrepr` of a typed message: one redacted payload, at most 1024 chars."""
    text = repr((redact(data),))
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


def _hide_query_secrets(text: str) -> str:
    if "=" not in text:
        return text
    return _QUERY_PARAMETER.sub(
        lambda m: f"{m.group(1)}=***" if is_secret_name(m.group(1)) else m.group(0),
        text,
    )
