"""E-mails go from `.delay()` through Redis and a real worker to a real SMTP server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from project.errors import PayloadInvalid
from project.tasks.accounts import handle_account_event
from project.tasks.email import EmailJob, EmailResult, EmailTemplate, send_email
from tests.support.smtp import SmtpSink


def address() -> str:
    return f"User.{uuid.uuid4().hex[:8]}@Example.COM"


def test_a_welcome_email_arrives_with_both_parts(worker: Any, smtp: SmtpSink) -> None:
    recipient = address()
    job = EmailJob(
        user_id="u-1", email=f"  {recipient} ", template="welcome", name="Ada"
    )

    result = send_email.delay(job).get(timeout=30)

    normalized = recipient.replace("Example.COM", "example.com")
    [received] = smtp.wait_for(normalized)
    message = received.message
    assert message["To"] == normalized
    assert message["From"] == "no-reply@example.com"
    assert message["Subject"] == "Welcome to Example App"
    assert message["Message-ID"] == result.message_id
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Hello Ada," in text.get_content()
    assert "<h1>Welcome, Ada!</h1>" in html.get_content()
    assert isinstance(result, EmailResult)
    assert result.template is EmailTemplate.WELCOME


def test_the_reset_email_carries_the_link_and_escapes_html(
    worker: Any, smtp: SmtpSink
) -> None:
    recipient = address().lower()
    job = EmailJob(
        user_id="u-2",
        email=recipient,
        template="reset-password",
        name="<script>x</script>",
        reset_url="https://example.com/reset?token=abc&user=2",
    )

    send_email.delay(job).get(timeout=30)

    [received] = smtp.wait_for(recipient)
    html = received.message.get_body(("html",))
    text = received.message.get_body(("plain",))
    assert html is not None
    assert text is not None
    assert "&lt;script&gt;x&lt;/script&gt;" in html.get_content()
    assert "<script>" not in html.get_content()
    assert 'href="https://example.com/reset?token=abc&amp;user=2"' in html.get_content()
    assert "https://example.com/reset?token=abc&user=2" in text.get_content()


def test_each_template_checks_what_it_needs() -> None:
    with pytest.raises(ValueError, match="needs reset_url"):
        EmailJob(user_id="u", email="a@example.com", template="reset-password")
    with pytest.raises(ValueError, match="takes no reset_url"):
        EmailJob(
            user_id="u",
            email="a@example.com",
            template="welcome",
            reset_url="https://example.com/r",
        )


def test_the_address_is_normalized() -> None:
    job = EmailJob(user_id="u", email=" New.User@Example.COM ", template="welcome")

    assert job.email == "New.User@example.com"


def test_a_signup_event_sends_the_welcome_email(worker: Any, smtp: SmtpSink) -> None:
    recipient = address().lower()

    handled = handle_account_event.delay_data(
        {"type": "signup", "user_id": "u-3", "email": recipient}
    ).get(timeout=30)

    assert handled.event_type == "signup"
    email = send_email.result(handled.email_task_id).get(timeout=30)
    [received] = smtp.wait_for(recipient)
    assert received.message["Message-ID"] == email.message_id
    assert received.message["Subject"] == "Welcome to Example App"


def test_a_password_reset_event_sends_the_reset_email(
    worker: Any, smtp: SmtpSink
) -> None:
    recipient = address().lower()

    handled = handle_account_event.delay_data(
        {
            "type": "password-reset-requested",
            "user_id": "u-4",
            "email": recipient,
            "reset_url": "https://example.com/r/1",
        }
    ).get(timeout=30)

    send_email.result(handled.email_task_id).get(timeout=30)
    [received] = smtp.wait_for(recipient)
    assert received.message["Subject"] == "Reset your Example App password"


def test_an_unknown_event_type_names_the_allowed_values() -> None:
    with pytest.raises(PayloadInvalid) as raised:
        handle_account_event.delay_data({"type": "deleted", "user_id": "u"})

    [error] = raised.value.errors
    assert error["type"] == "union_tag_invalid"
    assert "'signup', 'password-reset-requested'" in error["msg"]
