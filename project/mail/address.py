"""E-mail addresses: validation, normalization and masking for logs."""

from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator


def normalize_address(value: str) -> str:
    """Strip surrounding spaces, check the syntax and lower-case the domain.

    The local part keeps its case: RFC 5321 lets a server treat it as
    case-sensitive. Deliverability (DNS) is not checked; the SMTP server decides.
    """
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return f"{checked.local_part}@{checked.domain.lower()}"


def mask_address(address: str) -> str:
    """`new.user@example.com` -> `n***@e***.com`: enough to tell apart, not to use."""
    local, _, domain = address.rpartition("@")
    if not local:
        return "***"
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***{dot}{tld}" if host else f"{tld[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


EmailAddress = Annotated[str, AfterValidator(normalize_address)]
"""A field type for addresses: validated and normalized as `normalize_address`."""
