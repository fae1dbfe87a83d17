"""Sending one fire of a schedule entry: the same path for beat and the CLI."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from project.scheduling.slots import fire_headers, slot_key

logger = logging.getLogger(__name__)


def fire(
    app: Any,
    *,
    entry_name: str,
    task_name: str,
    args: Any,
    options: dict[str, Any],
    slot: datetime,
    producer: Any = None,
) -> Any:
    """Publish the task of one slot, carrying its one-fire-per-slot key."""
    headers = {**(options.get("headers") or {}), **fire_headers(entry_name, slot)}
    message_options = {**options, "headers": headers}
    result = app.send_task(
        task_name,
        args=list(args or ()),
        kwargs={},
        producer=producer,
        **message_options,
    )
    logger.info(
        "Fired schedule entry %s: task %s[%s] for slot %s",
        entry_name,
        task_name,
        result.id,
        slot_key(entry_name, slot),
    )
    return result
