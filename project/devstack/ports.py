"""The ports `make run` would bind, checked before it starts anything.

A second `make run` in the same folder would otherwise start a stack whose SMTP
sink and Flower die with a traceback, and whose watcher says `Ready.` because the
first stack's worker answers.
"""

from __future__ import annotations

import errno
import socket


def in_use(host: str, port: int) -> bool:
    """True when a server already listens on host:port."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # create_server sets SO_REUSEADDR, as asyncio, tornado and redis-server
        # do: a port with connections in TIME_WAIT only is free to them too.
        with socket.create_server((host, port), family=family):
            return False
    except OSError as exc:
        # Any other failure (an address not of this machine, say) is the
        # server's to report.
        return exc.errno == errno.EADDRINUSE


def taken(name: str, host: str, port: int) -> str | None:
    """The line to stop with when the port that setting `name` names is taken."""
    if not in_use(host, port):
        return None
    return (
        f"make run: {name} {port} is in use (is another make run up?);"
        f" stop it or set {name} to a free port"
    )
