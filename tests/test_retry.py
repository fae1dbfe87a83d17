"""The retry policy: delays, the jitter floor, refusals, classification, start-up."""

from __future__ import annotations

import random
import smtplib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.exceptions

from project.celery_app import check_retry_delays
from project.errors import (
    ConfigurationError,
    DeclarationError,
    DelayTooLong,
    PayloadInvalid,
    PermanentError,
    ResultInvalid,
    TransientError,
    WorkerLost,
)
from project.retry import DEFAULT_POLICY, NO_RETRY, RetryPolicy, Verdict, classify
from project.settings import load_settings
from project.tasks.email import EMAIL_RETRY, EmailJob, send_email
from tests.support.workers import WorkerProcess


class Lowest(random.Random):
    """A random source that always draws the lowest value."""

    def uniform(self, a: float, b: float) -> float:
        return a


class Highest(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_email_waits_about_2_then_4_seconds_with_a_seeded_source() -> None:
    # Given the e-mail policy and a seeded random source
    drawn = random.Random(1234)
    expected = [drawn.uniform(1.5, 2.5), drawn.uniform(3.0, 5.0)]

    # When both waits are drawn from the same seed
    rng = random.Random(1234)
    delays = [EMAIL_RETRY.delay_s(n, rng) for n in (1, 2)]

    # Then they are exactly the seeded draws, within +-25 % of 2 s and 4 s
    assert delays == expected
    assert 1.5 <= delays[0] <= 2.5
    assert 3.0 <= delays[1] <= 5.0
    assert EMAIL_RETRY.attempts == 3
    assert EMAIL_RETRY.retries == 2
    assert send_email.spec.retry is EMAIL_RETRY


def test_the_bounds_of_each_wait() -> None:
    policy = RetryPolicy(attempts=6, base_delay_s=2, multiplier=3, max_delay_s=30)
    assert [policy.nominal_delay_s(n) for n in range(1, 6)] == [2, 6, 18, 30, 30]
    assert policy.delay_s(2, Lowest()) == 4.5
    assert policy.delay_s(2, Highest()) == 7.5
    # The maximum caps the jittered wait too.
    assert policy.delay_s(4, Highest()) == 30
    assert policy.longest_delay_s() == 30


def test_jitter_never_goes_below_the_floor() -> None:
    # Given a wide jitter, whose lowest draw (0.1 s) is under the floor
    policy = RetryPolicy(base_delay_s=1.0, jitter=0.9, min_delay_s=0.5)

    # Then the lowest draw becomes the floor, and no draw of many is below it
    assert policy.delay_s(1, Lowest()) == 0.5
    rng = random.Random(99)
    assert min(policy.delay_s(1, rng) for _ in range(10_000)) >= 0.5


def test_no_retry_and_the_default_policy() -> None:
    assert NO_RETRY.attempts == 1
    assert NO_RETRY.longest_delay_s() == 0
    assert DEFAULT_POLICY.attempts == 3
    assert DEFAULT_POLICY.describe() == "3 attempt(s), waits ~2 s, ~4 s"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"attempts": 0}, "attempts must be 1 or more"),
        ({"base_delay_s": 0}, "base_delay_s must be above 0"),
        ({"multiplier": 0.5}, "multiplier must be 1 or more"),
        ({"jitter": 1.0}, "jitter must be in [0, 1)"),
        ({"min_delay_s": 0}, "no retry fires at once"),
        ({"base_delay_s": 90, "max_delay_s": 60}, "base_delay_s <= max_delay_s"),
        ({"min_delay_s": 3, "base_delay_s": 2}, "min_delay_s <= base_delay_s"),
        (
            {"retry_on": (KeyError,), "give_up_on": (KeyError,)},
            "KeyError is listed in both",
        ),
        ({"retry_on": (42,)}, "take exception classes"),
        ({"attempts": 1, "retry_on": (KeyError,)}, "nothing would ever retry"),
    ],
)
def test_impossible_policies_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(DeclarationError, match="impossible retry policy") as caught:
        RetryPolicy(**options)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "exc",
    [
        TransientError("later"),
        ConnectionRefusedError("refused"),
        TimeoutError("slow"),
        smtplib.SMTPServerDisconnected("gone"),
        smtplib.SMTPResponseException(421, b"busy"),
        smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"mailbox busy")}),
        redis.exceptions.ConnectionError("down"),
        redis.exceptions.TimeoutError("slow"),
    ],
)
def test_transient_failures_retry(exc: BaseException) -> None:
    assert classify(exc) is Verdict.RETRY


@pytest.mark.parametrize(
    "exc",
    [
        PermanentError("no"),
        PayloadInvalid("email.send", []),
        ResultInvalid("email.send", []),
        WorkerLost("poison"),
        smtplib.SMTPResponseException(550, b"no such user"),
        smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")}),
        # A bug does not go away by waiting.
        ZeroDivisionError("bug"),
    ],
)
def test_permanent_failures_never_retry(exc: BaseException) -> None:
    assert classify(exc) is Verdict.GIVE_UP


def test_a_task_declares_its_own_transient_and_permanent_errors() -> None:
    policy = RetryPolicy(retry_on=(LookupError,), give_up_on=(ConnectionResetError,))
    assert policy.verdict(KeyError("x")) is Verdict.RETRY
    assert policy.verdict(ConnectionResetError()) is Verdict.GIVE_UP
    assert policy.verdict(ConnectionRefusedError()) is Verdict.RETRY
    assert policy.verdict(PermanentError()) is Verdict.GIVE_UP


def test_start_up_refuses_waits_that_reach_the_visibility_timeout() -> None:
    # email.send may wait up to 5 s (4 s + 25 %) before its last retry.
    assert EMAIL_RETRY.longest_delay_s() == 5.0
    check_retry_delays([send_email], visibility_timeout_s=6)
    with pytest.raises(ConfigurationError) as caught:
        check_retry_delays([send_email], visibility_timeout_s=5)
    message = str(caught.value)
    assert "task email.send" in message
    assert "may wait 5 s" in message
    assert "Raise VISIBILITY_TIMEOUT_S" in message


def test_a_short_visibility_timeout_is_only_for_tests() -> None:
    assert (
        load_settings(app_env="test", visibility_timeout_s=8).visibility_timeout_s == 8
    )
    with pytest.raises(ConfigurationError) as caught:
        load_settings(app_env="production", visibility_timeout_s=8)
    assert "VISIBILITY_TIMEOUT_S is 8 s; expected at least 60 s" in str(caught.value)
    with pytest.raises(ConfigurationError, match="greater than or equal to 5"):
        load_settings(app_env="test", visibility_timeout_s=2)


def test_idempotency_records_must_outlive_redelivery() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(visibility_timeout_s=3600, idempotency_ttl_s=600)
    assert "IDEMPOTENCY_TTL_S (600 s) must exceed VISIBILITY_TIMEOUT_S" in str(
        caught.value
    )


@pytest.mark.slow
def test_a_worker_refuses_to_start_when_a_retry_would_run_twice(
    tmp_path: Path,
) -> None:
    # email.send may wait 5 s before its last retry; the timeout is 5 s.
    env = {"APP_ENV": "test", "VISIBILITY_TIMEOUT_S": "5"}
    worker = WorkerProcess(env, tmp_path / "worker.log")
    with pytest.raises(RuntimeError) as caught:
        worker.start()
    assert "retry waits reach VISIBILITY_TIMEOUT_S (5 s)" in str(caught.value)
    assert "task email.send" in str(caught.value)


def test_a_countdown_that_reaches_the_visibility_timeout_is_refused() -> None:
    job = EmailJob(user_id="u", email="a@example.com", template="welcome")
    timeout_s = send_email.celery_task.app.conf.broker_transport_options[
        "visibility_timeout"
    ]
    with pytest.raises(DelayTooLong, match="reaches the Redis visibility timeout"):
        send_email.apply_async(job, countdown=timeout_s)
    later = datetime.now(UTC) + timedelta(seconds=timeout_s + 60)
    with pytest.raises(DelayTooLong):
        send_email.apply_async(job, eta=later)
