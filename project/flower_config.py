"""Flower's options, derived from our settings and checked before Flower starts.

`celery -A project flower` executes `flowerconfig.py` from the current folder
(or the file named by FLOWER_CONF), which applies `flower_options()`. Decisions,
explained in docs/OPERATIONS.md:

- Basic auth from FLOWER_BASIC_AUTH. Without it Flower refuses to start unless
  it listens on loopback only: its UI shows every task's arguments and results.
- Read-only by default (FLOWER_READ_ONLY): the endpoints that send, apply,
  revoke or abort tasks and those that control workers answer 403.
- `/metrics` and `/healthcheck` stay open (Flower cannot protect them): a
  Prometheus scraper and the compose healthcheck read them without a password.
  They carry counts, task names and worker names, never arguments.
- State is saved in FLOWER_DATA_DIR every minute and on SIGTERM, so a restart
  keeps the history; workers offline for an hour are purged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from project.errors import ConfigurationError
from project.settings import Settings

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
STATE_SAVE_INTERVAL_MS = 60_000
PURGE_OFFLINE_WORKERS_S = 3600


def check_access(settings: Settings, address: str) -> None:
    """Refuse an open Flower on any interface but loopback."""
    if settings.flower_basic_auth is not None or address in LOOPBACK:
        return
    where = f"address {address!r}" if address else "every interface (no --address)"
    raise ConfigurationError(
        f"FLOWER_BASIC_AUTH is not set and Flower would listen on {where}."
        " Set FLOWER_BASIC_AUTH=user:password (several separated by commas), or"
        " start Flower with --address=127.0.0.1 to keep it on this machine."
    )


def basic_auth_entries(settings: Settings) -> list[str]:
    if settings.flower_basic_auth is None:
        return []
    secret = settings.flower_basic_auth.get_secret_value()
    return [entry.strip() for entry in secret.split(",")]


def use_plain_transport(app: Any) -> None:
    """Give Flower kombu's own transport when ours is a custom class.

    Flower picks its broker page and queue lengths by the transport's name and
    knows only kombu's (a custom `module:Class` makes /broker answer 404). It
    takes no message off a queue, so what a custom consuming transport adds
    does not concern it.
    """
    transport = app.conf.broker_transport
    if isinstance(transport, str) and ":" in transport:
        app.conf.broker_transport = None


def flower_options(settings: Settings, current: Any) -> dict[str, Any]:
    """Option name -> value for Flower; `current` is Flower's parsed options.

    Values given with FLOWER_* variables or on the command line (read into
    `current` before this runs) win over the defaults chosen here.
    """
    check_access(settings, str(current.address or ""))
    data = Path(settings.flower_data_dir)
    data.mkdir(parents=True, exist_ok=True)
    return {
        "basic_auth": basic_auth_entries(settings),
        "read_only": settings.flower_read_only,
        "persistent": True,
        "db": str(data / "flower"),
        "state_save_interval": current.state_save_interval or STATE_SAVE_INTERVAL_MS,
        "purge_offline_workers": (
            current.purge_offline_workers or PURGE_OFFLINE_WORKERS_S
        ),
    }
