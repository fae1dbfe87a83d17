"""Retry policies: how often a task is tried and how long it waits in between.

A policy is declared with the task (`@typed_task(retry=RetryPolicy(...))`) and
checked there, so an impossible policy never reaches a worker.

The wait before retry n (n = 1 after the first attempt failed) is drawn as:

    nominal = min(max_delay_s, base_delay_s * multiplier ** (n - 1))
    delay   = uniform(nominal * (1 - jitter), nominal * (1 + jitter))
    delay   = min(max_delay_s, max(min_delay_s, delay))

so every wait lies in [min_delay_s, max_delay_s] and never is 0 s, unlike
Celery's full jitter, which draws from [0, countdown]. The default policy waits
about 2 s, then about 4 s (each within +-25 %), then gives up: three attempts.
"""

from __future__ import annotations

import random
import smtplib
from dataclasses import dataclass, field
from enum import StrEnum

import redis.exceptions

from project.errors import DeclarationError, PermanentError, TransientError

# Failures that waiting can cure: the network, a server that is busy or restarting.
# SMTP replies are classified by their code; see `classify`.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    ConnectionError,
    TimeoutError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.TryAgainError,
)

# The random source of every jittered delay; tests seed it (or pass their own).
RANDOM = random.Random()


class Verdict(StrEnum):
    """What a failure calls for."""

    RETRY = "retry"
    GIVE_UP = "give-up"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a task retries. `attempts` counts every try, the first one included."""

    attempts: int = 3
    base_delay_s: float = 2.0
    multiplier: float = 2.0
    max_delay_s: float = 60.0
    # Each wait varies by up to this fraction of its nominal value, both ways.
    jitter: float = 0.25
    # The floor of every wait: a retry never fires at once.
    min_delay_s: float = 0.5
    # Exceptions of the task's own that retry, and that never retry; these win
    # over the project-wide classification.
    retry_on: tuple[type[BaseException], ...] = field(default=())
    give_up_on: tuple[type[BaseException], ...] = field(default=())

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise DeclarationError(f"impossible retry policy: {problem}")

    @property
    def retries(self) -> int:
        """Retries after the first attempt: Celery's `max_retries`."""
        return self.attempts - 1

    def nominal_delay_s(self, retry: int) -> float:
        """The wait before retry `retry` (1-based) before jitter."""
        if retry < 1:
            raise ValueError(f"retries are numbered from 1, got {retry}")
        growth = self.multiplier ** min(retry - 1, 1000)
        return min(self.max_delay_s, self.base_delay_s * growth)

    def delay_s(self, retry: int, rng: random.Random | None = None) -> float:
        """The wait before retry `retry` (1-based), jittered; see the module doc."""
        nominal = self.nominal_delay_s(retry)
        spread = nominal * self.jitter
        drawn = (rng or RANDOM).uniform(nominal - spread, nominal + spread)
        return min(self.max_delay_s, max(self.min_delay_s, drawn))

    def longest_delay_s(self) -> float:
        """The longest wait this policy can produce (0 when it never retries)."""
        if self.retries == 0:
            return 0.0
        nominal = self.nominal_delay_s(self.retries)
        return min(self.max_delay_s, max(self.min_delay_s, nominal * (1 + self.jitter)))

    def verdict(self, exc: BaseException) -> Verdict:
        """RETRY for a transient failure, GIVE_UP for any other."""
        if self.give_up_on and isinstance(exc, self.give_up_on):
            return Verdict.GIVE_UP
        if self.retry_on and isinstance(exc, self.retry_on):
            return Verdict.RETRY
        return classify(exc)

    def describe(self) -> str:
        delays = ", ".join(
            f"~{self.nominal_delay_s(n):g} s" for n in range(1, min(self.attempts, 6))
        )
        more = ", ..." if self.attempts > 6 else ""
        waits = f"waits {delays}{more}" if delays else "no retry"
        return f"{self.attempts} attempt(s), {waits}"


def classify(exc: BaseException) -> Verdict:
    """The project-wide rule: retry what waiting can cure, nothing else.

    Permanent: PermanentError (which covers invalid payloads and results) and
    SMTP replies 5xx. Transient: TRANSIENT_ERRORS and SMTP replies 4xx. Anything
    else is a bug or an unknown state: it fails at once rather than running the
    same code again, unless the task lists it in `retry_on`.
    """
    if isinstance(exc, PermanentError):
        return Verdict.GIVE_UP
    code = smtp_code(exc)
    if code is not None:
        return Verdict.RETRY if 400 <= code < 500 else Verdict.GIVE_UP
    if isinstance(exc, TRANSIENT_ERRORS):
        return Verdict.RETRY
    return Verdict.GIVE_UP


def smtp_code(exc: BaseException) -> int | None:
    """The SMTP reply code of an exception; the highest for refused recipients."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    return None


def _problem(policy: RetryPolicy) -> str | None:
    checks = (
        (policy.attempts >= 1, f"attempts must be 1 or more, got {policy.attempts}"),
        (
            policy.base_delay_s > 0,
            f"base_delay_s must be above 0, got {policy.base_delay_s}",
        ),
        (
            policy.multiplier >= 1,
            f"multiplier must be 1 or more, got {policy.multiplier}",
        ),
        (0 <= policy.jitter < 1, f"jitter must be in [0, 1), got {policy.jitter}"),
        (
            policy.min_delay_s > 0,
            "min_delay_s must be above 0, so that no retry fires at once",
        ),
        (
            policy.min_delay_s <= policy.base_delay_s <= policy.max_delay_s,
            f"expected min_delay_s <= base_delay_s <= max_delay_s, got"
            f" {policy.min_delay_s} <= {policy.base_delay_s} <= {policy.max_delay_s}",
        ),
    )
    for ok, message in checks:
        if not ok:
            return message
    return _problem_with_exceptions(policy)


def _problem_with_exceptions(policy: RetryPolicy) -> str | None:
    for kind in (*policy.retry_on, *policy.give_up_on):
        if not (isinstance(kind, type) and issubclass(kind, BaseException)):
            return f"retry_on and give_up_on take exception classes, got {kind!r}"
    both = set(policy.retry_on) & set(policy.give_up_on)
    if both:
        names = ", ".join(sorted(kind.__name__ for kind in both))
        return f"{names} is listed in both retry_on and give_up_on"
    if policy.attempts == 1 and policy.retry_on:
        return "retry_on is set but attempts is 1, so nothing would ever retry"
    return None


# No retry at all: one attempt.
NO_RETRY = RetryPolicy(attempts=1)
# The project's default: three attempts, waiting about 2 s and then about 4 s.
DEFAULT_POLICY = RetryPolicy()
