"""Health of the running service, as `project health` and the compose
healthchecks see it: broker, workers, beat, queues.

Each check gives a verdict and one short sentence. The age of the oldest waiting
message needs a time stamp Celery does not put in messages: `sent_at` (epoch
seconds) is added to the headers of every task published through Celery.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from celery import Celery, signals

from project.queues import QUEUE_NAMES

CHECKS = ("broker", "workers", "beat", "queues")
SENT_AT = "sent_at"
# kombu's Redis transport keeps priorities above 0 in lists named queue + SEP + n.
PRIORITY_SEP = "\x06\x16"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def line(self) -> str:
        """One line: the first failure's reason, or every check's summary."""
        failed = [check for check in self.checks if not check.ok]
        if failed:
            return f"unhealthy: {failed[0].detail}"
        return "ok: " + "; ".join(check.detail for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.line(),
            "checks": {check.name: asdict(check) for check in self.checks},
        }


def stamp_sent_at(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None:
        headers.setdefault(SENT_AT, time.time())


def connect_signals() -> None:
    signals.before_task_publish.connect(
        stamp_sent_at, weak=False, dispatch_uid="health"
    )


def check_broker(app: Celery, timeout_s: float) -> Check:
    connection = app.connection_for_read()
    try:
        connection.ensure_connection(max_retries=1, timeout=timeout_s)
    except Exception as exc:
        where = location(str(app.conf.broker_url))
        return Check("broker", False, f"broker {where} unreachable: {exc}")
    finally:
        connection.release()
    return Check("broker", True, "broker reachable")


def location(url: str) -> str:
    """scheme://host:port of a URL, never its credentials (first of a list)."""
    parts = urlsplit(url.split(";")[0])
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or 'localhost'}{port}"


def check_workers(app: Celery, timeout_s: float, required: str | None) -> Check:
    destination = [required] if required else None
    replies = app.control.ping(timeout=timeout_s, destination=destination) or []
    names = sorted(name for reply in replies for name in reply)
    if not names:
        who = f"worker {required}" if required else "no worker"
        return Check("workers", False, f"{who} answered within {timeout_s:g} s")
    count = f"{len(names)} worker{'s' if len(names) != 1 else ''}"
    return Check("workers", True, f"{count} answering", {"workers": names})


def check_beat(app: Celery, required: bool) -> Check:
    from redbeat.schedulers import ensure_conf, get_redis

    conf = ensure_conf(app)
    client = get_redis(app)
    token, ttl_ms = client.get(conf.lock_key), client.pttl(conf.lock_key)
    if token is None or ttl_ms < 0:
        return Check("beat", not required, "beat: no beat holds the lock")
    timeout_s = float(conf.lock_timeout or 5 * app.conf.beat_max_loop_interval)
    age_s = max(0.0, timeout_s - ttl_ms / 1000)
    text = token.decode(errors="replace") if isinstance(token, bytes) else str(token)
    holder = text[:8]  # RedBeat's token: enough of it to tell two holders apart
    # The holder extends the lock on every tick, at most one loop interval apart.
    stale = age_s > 2 * float(app.conf.beat_max_loop_interval or 300) + 5
    detail = f"beat lock held by {holder}, last tick {age_s:.0f} s ago"
    data = {"holder": holder, "last_tick_age_s": round(age_s, 1)}
    return Check("beat", not stale, detail, data)


def check_queues(app: Celery, max_wait_s: float) -> Check:
    depths: dict[str, int] = {}
    oldest: dict[str, float | None] = {}
    with app.connection_for_read() as connection:
        for name in sorted(QUEUE_NAMES):
            # A channel per queue: on AMQP a failed passive declare closes it.
            with connection.channel() as channel:
                depths[name] = _depth(channel, name)
                oldest[name] = _oldest_wait_s(app, channel, name)
    waits = [age for age in oldest.values() if age is not None]
    worst = max(waits, default=0.0)
    shown = " ".join(f"{name}={depth}" for name, depth in depths.items())
    data = {"depths": depths, "oldest_wait_s": oldest}
    detail = f"queues {shown}, oldest waiting {worst:.0f} s"
    if worst > max_wait_s:
        late = max(oldest, key=lambda name: oldest[name] or 0.0)
        detail = (
            f"queue {late} has a message waiting {worst:.0f} s"
            f" (limit {max_wait_s:g} s): too few workers for it?"
        )
        return Check("queues", False, detail, data)
    return Check("queues", True, detail, data)


def _depth(channel: Any, name: str) -> int:
    try:
        declared = channel.queue_declare(queue=name, passive=True)
    except Exception:
        # Not declared yet: no worker has started and nothing was sent to it.
        return 0
    return int(declared.message_count)


def _oldest_wait_s(app: Celery, channel: Any, name: str) -> float | None:
    """Seconds the oldest message has waited; None where the broker cannot say."""
    client = getattr(channel, "client", None)
    if client is None or not hasattr(client, "lindex"):
        return None
    options = app.conf.broker_transport_options or {}
    steps = options.get("priority_steps", [0, 3, 6, 9])
    stamps = []
    for step in steps:
        key = name if step == 0 else f"{name}{PRIORITY_SEP}{step}"
        # LPUSH to publish, BRPOP to consume: the oldest is at the right end.
        raw = client.lindex(key, -1)
        stamp = _sent_at(raw) if raw is not None else None
        if stamp is not None:
            stamps.append(stamp)
    return max(0.0, time.time() - min(stamps)) if stamps else None


def _sent_at(raw: bytes) -> float | None:
    try:
        value = json.loads(raw)["headers"].get(SENT_AT)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def run_checks(
    app: Celery,
    only: Sequence[str] = (),
    *,
    timeout_s: float = 2.0,
    max_wait_s: float = 300.0,
    worker: str | None = None,
) -> Report:
    """Run the chosen checks (all when `only` is empty); a dead broker stops there."""
    chosen = [name for name in CHECKS if not only or name in only]
    checks = [check_broker(app, timeout_s)]
    if not checks[0].ok:
        return Report(checks)
    if "workers" in chosen:
        checks.append(check_workers(app, timeout_s, worker))
    if "beat" in chosen and _uses_redbeat(app):
        checks.append(check_beat(app, required="beat" in only))
    if "queues" in chosen:
        checks.append(check_queues(app, max_wait_s))
    return Report(checks)


def _uses_redbeat(app: Celery) -> bool:
    return "redbeat" in str(app.conf.beat_scheduler or "")
