"""A typed Celery service. `celery -A project worker` finds the app here as `app`."""

from __future__ import annotations

import sys

from project import health, logs
from project.celery_app import create_app
from project.errors import ConfigurationError
from project.settings import get_settings

try:
    settings = get_settings()
except ConfigurationError as exc:
    # Start-up stops here, before Celery connects to anything, with one message per
    # bad variable instead of a traceback.
    sys.exit(f"project: {exc}")

app = create_app(settings)
# Receivers only: logging itself is set up when Celery sends `setup_logging`.
logs.connect_signals()
# Stamps `sent_at` on published messages, for the queue-age health check.
health.connect_signals()

__all__ = ["app", "settings"]
