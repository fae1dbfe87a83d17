"""Sending a rendered e-mail over SMTP (STARTTLS and login when configured)."""

from __future__ import annotations

import functools
import smtplib
import socket
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from project.mail.address import ascii_domain, mask_address
from project.mail.render import RenderedEmail
from project.settings import Settings


def build_message(
    rendered: RenderedEmail,
    *,
    sender: str,
    recipient: str,
    message_id: str | None = None,
) -> EmailMessage:
    """A multipart/alternative message: the plain-text part first, then HTML."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ascii_domain(recipient)
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2])
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


@functools.cache
def local_hostname() -> str:
    """The name this host gives in EHLO. smtplib would look it up again for every
    connection, and the lookup can wait on DNS."""
    return socket.getfqdn()


def send_message(
    message: EmailMessage,
    settings: Settings,
    *,
    on_accepted: Callable[[], None] | None = None,
) -> None:
    """Deliver `message` to the configured SMTP server.

    `on_accepted` runs as soon as the server accepted the message, before the
    session is closed: the moment to record that it was sent, so that a crash
    during the closing exchange cannot make it look unsent.

    Raises smtplib.SMTPResponseException (with the reply code) when the server
    refuses, OSError when it cannot be reached.
    """
    with smtplib.SMTP(
        settings.smtp_host,
        settings.smtp_port,
        local_hostname=local_hostname(),
        timeout=settings.smtp_timeout_s,
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(
                settings.smtp_username, settings.smtp_password.get_secret_value()
            )
        try:
            smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            # The refusal names the address; it is stored as the task's error and
            # sent in task events, so it leaves here masked (same type and codes).
            raise smtplib.SMTPRecipientsRefused(
                {mask_address(rcpt): reply for rcpt, reply in exc.recipients.items()}
            ) from None
        if on_accepted is not None:
            on_accepted()
