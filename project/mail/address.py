"""E-mail addresses: validation, normalization and masking for logs."""

from __future__ import annotations

import re
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


def ascii_domain(address: str) -> str:
    """The address with an internationalized domain in its ASCII (IDNA) form.

    `user@bücher.de` -> `user@xn--bcher-kva.de`, deliverable by servers without
    SMTPUTF8. A non-ASCII local part has no ASCII form and is returned as it is.
    """
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return address
    return checked.ascii_email or address


def mask_address(address: str) -> str:
    """`new.user@example.com` -> `n***@e***.com`: enough to tell apart, not to use."""
    local, _, domain = address.rpartition("@")
    if not local:
        return "***"
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***{dot}{tld}" if host else f"{tld[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


# Candidates for addresses in free text: anchored where a word can start and without
# backtracking (possessive quantifiers), so the time stays linear in the text; a
# 200 kB token without "@" costs microseconds. An apostrophe may sit inside a local
# part (o'neil@example.com) but not at its start, where it is a quote.
_D = r"\s<>(),;:\"\[\]{}"
_CANDIDATE = re.compile(
    rf"(?<![^{_D}'])[^{_D}@'][^{_D}@]*+@[^{_D}@.']++(?:\.[^{_D}@.']++)+"
)
_WORD = re.compile(r"\w")
_LETTER = re.compile(r"[^\W\d_]")


def mask_addresses(text: str) -> str:
    """`text` with every e-mail address in it replaced by `mask_address`'s form."""
    if "@" not in text:
        return text
    return _CANDIDATE.sub(_mask_candidate, text)


def _mask_candidate(match: re.Match[str]) -> str:
    candidate = match.group(0)
    local, _, domain = candidate.rpartition("@")
    # `***@10.0.0.9` (a password already hidden, then a host) is no address.
    if not _WORD.search(local) or not _LETTER.search(domain.rpartition(".")[2]):
        return candidate
    return mask_address(candidate)


EmailAddress = Annotated[str, AfterValidator(normalize_address)]
"""A field type for addresses: validated and normalized as `normalize_address`."""
