"""A development SMTP server that stores every message it receives as a .eml file."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

logger = logging.getLogger("project.devstack.smtp")


class FolderHandler:
    """aiosmtpd handler: one file per message, named by arrival time and a counter."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count(1)
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = self.folder / f"{stamp}-{next(self.counter):04d}.eml"
        temporary = path.with_suffix(".part")
        # Written whole, then renamed: a reader never sees half a message.
        temporary.write_bytes(envelope.content)
        temporary.rename(path)
        logger.info(
            "Stored a message for %d recipient(s) in %s", len(envelope.rcpt_tos), path
        )
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--folder", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # aiosmtpd logs every envelope address at INFO; addresses stay out of logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(
        FolderHandler(args.folder), hostname=args.host, port=args.port
    )
    controller.start()
    logger.info(
        "SMTP sink on %s:%d, storing messages in %s/",
        args.host,
        args.port,
        args.folder.resolve(),
    )
    try:
        asyncio.run(_forever())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


async def _forever() -> None:
    await asyncio.Event().wait()


if __name__ == "__main__":
    main()
