"""The services one benchmark run uses: its own Redis and a slow SMTP server."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.ports import free_port
from tests.support.redis_server import RedisServer


class SlowSmtp:
    """Accepts every message after `delay_s`, like a remote server under load."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.port = free_port()
        self.count = 0
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay_s)
        with self.lock:
            self.count += 1
        return "250 Message accepted"

    def start(self) -> SlowSmtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def start_redis(folder: Path) -> RedisServer:
    return RedisServer(folder).start()
