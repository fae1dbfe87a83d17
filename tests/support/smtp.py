"""An in-process SMTP server (aiosmtpd) that keeps what it receives in memory."""

from __future__ import annotations

import email
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.ports import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        code = self.sink.refuse_rcpt.get(address)
        if code is not None:
            return f"{code} recipient refused by the test server"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        with self.sink.lock:
            self.sink.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
        return "250 Message accepted"


class SmtpSink:
    """Start with `start()`; `received` lists every message in arrival order."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        # Address -> SMTP reply code, for tests of refused recipients.
        self.refuse_rcpt: dict[str, int] = {}
        self.lock = threading.Lock()
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port
        )

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [item for item in self.received if address in item.rcpt_tos]

    def wait_for(
        self, address: str, count: int = 1, timeout_s: float = 20.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise TimeoutError(
            f"{len(self.to(address))} of {count} messages to {address}"
            f" arrived within {timeout_s} s"
        )
