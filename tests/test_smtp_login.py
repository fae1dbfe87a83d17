"""SMTP login: used when both credentials are set, refused when they are wrong."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from project.mail.render import RenderedEmail
from project.mail.send import build_message, send_message
from project.settings import load_settings
from tests.support.ports import free_port

# Plain-text AUTH is what the test server needs to skip a certificate; never in use.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


def authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"mailer",
        b"s3cret-value",
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield port, inbox
    controller.stop()


def message() -> Any:
    rendered = RenderedEmail(subject="Hi", text="text", html="<p>html</p>")
    return build_message(rendered, sender="app@example.com", recipient="a@example.com")


def test_login_with_the_right_credentials_delivers(
    auth_server: tuple[int, Inbox],
) -> None:
    port, inbox = auth_server
    settings = load_settings(
        smtp_port=port, smtp_username="mailer", smtp_password="s3cret-value"
    )

    send_message(message(), settings)

    assert len(inbox.messages) == 1


def test_wrong_credentials_are_refused(auth_server: tuple[int, Inbox]) -> None:
    port, inbox = auth_server
    settings = load_settings(
        smtp_port=port, smtp_username="mailer", smtp_password="wrong"
    )

    with pytest.raises(smtplib.SMTPAuthenticationError):
        send_message(message(), settings)
    assert inbox.messages == []


def test_without_credentials_an_auth_only_server_refuses(
    auth_server: tuple[int, Inbox],
) -> None:
    port, inbox = auth_server

    with pytest.raises(smtplib.SMTPSenderRefused):
        send_message(message(), load_settings(smtp_port=port))
    assert inbox.messages == []
