"""Checks of the `.env` file, before pydantic-settings reads it.

python-dotenv skips a line it cannot parse with a warning that names no
variable, and pydantic-settings ignores names it does not know. Either way a
setting silently keeps its default: `SMTP_PORT="1035` (an unclosed quote) or
`SMPT_PORT=1035` (a typo) leave SMTP_PORT at 1025. Both are refused here, with
the line number and the fix. Names far from every setting (DATABASE_URL for the
Django example, say) are left alone: a `.env` is often shared.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from dotenv.parser import parse_stream

# Read by the start scripts, Flower and the test suite, not by Settings.
OTHER_VARIABLES = frozenset(
    {
        "WORKER_QUEUES",
        "WORKER_POOL",
        "WORKER_CONCURRENCY",
        "WORKER_NAME",
        "REMAP_SIGTERM",
        "FLOWER_ADDRESS",
        "FLOWER_PORT",
        "FLOWER_CONF",
        "FLOWER_STATE_SAVE_INTERVAL",
        "FLOWER_PURGE_OFFLINE_WORKERS",
        "TEST_BROKER_URL",
        "TEST_REDIS_URL",
    }
)
# How alike an unknown name must be to a known one to be taken for a typo.
TYPO_CUTOFF = 0.85


def env_file_problems(path: Path, settings: Iterable[str]) -> list[str]:
    """One message per line of `path` that would be skipped or ignored."""
    if not path.is_file():
        return []
    known = {name.upper() for name in settings} | OTHER_VARIABLES
    problems = []
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            line = binding.original.line
            if binding.error:
                problems.append(
                    f"{path} line {line} cannot be read; write it as NAME=value,"
                    " with matching quotes around a value that has spaces"
                )
            elif binding.key and binding.key.upper() not in known:
                problems.extend(_typo(path, line, binding.key.upper(), known))
    return problems


def _typo(path: Path, line: int, name: str, known: set[str]) -> list[str]:
    close = difflib.get_close_matches(name, known, n=1, cutoff=TYPO_CUTOFF)
    if not close:
        return []
    return [
        f"{path} line {line} sets {name}, which no setting reads; did you mean"
        f" {close[0]}?"
    ]
