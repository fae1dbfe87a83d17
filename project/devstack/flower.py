"""Flower in `make run`: on loopback, behind a credential made for the session."""

from __future__ import annotations

import functools
import os
import secrets
import socket

from project.settings import Settings

DEFAULT_PORT = 5555


@functools.cache
def flower_port() -> int:
    """FLOWER_PORT when set; else 5555, or any free port when 5555 is taken."""
    if os.environ.get("FLOWER_PORT"):
        return int(os.environ["FLOWER_PORT"])
    for port in (DEFAULT_PORT, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            found: int = sock.getsockname()[1]
            return found
    return DEFAULT_PORT


def flower_command(python: str) -> str:
    # flowerconfig.py in the working folder adds auth, read-only mode and state.
    return (
        f"{python} -m celery -A project flower"
        f" --address=127.0.0.1 --port={flower_port()}"
    )


def session_credential(settings: Settings) -> str:
    """FLOWER_BASIC_AUTH when set; otherwise a new `admin:<random>` for this run,
    put in the environment that the stack's processes inherit."""
    if settings.flower_basic_auth is not None:
        return settings.flower_basic_auth.get_secret_value().split(",")[0]
    credential = f"admin:{secrets.token_urlsafe(12)}"
    os.environ["FLOWER_BASIC_AUTH"] = credential
    return credential


def banner_lines(credential: str, *, chosen: bool = False) -> list[str]:
    """The password only when it was made for this session: one the user chose
    (FLOWER_BASIC_AUTH) stays out of the terminal and its scrollback."""
    user, _, password = credential.partition(":")
    address = f"Flower: http://127.0.0.1:{flower_port()}/  user {user}"
    if chosen:
        return [f"{address}  password: the one in FLOWER_BASIC_AUTH"]
    return [
        f"{address}  password {password}",
        "  (made for this session; set FLOWER_BASIC_AUTH to choose your own)",
    ]
