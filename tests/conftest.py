"""The test session starts its own Redis server and SMTP server before `project` is
imported, so the app is configured for them exactly as a deployment would be: from
environment variables.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.redis_server import RedisServer
from tests.support.smtp import SmtpSink

_STATE: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    folder = Path(tempfile.mkdtemp(prefix="project-tests-"))
    _STATE["folder"] = folder
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        server = RedisServer(folder / "redis").start()
        _STATE["redis"] = server
        url = server.url
    smtp = SmtpSink().start()
    _STATE["smtp"] = smtp
    os.environ.update(
        {
            "APP_ENV": "test",
            "REDIS_URL": url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "MAIL_FROM": "no-reply@example.com",
        }
    )
    # Settings from a developer's .env must not leak into the suite; a run on
    # another broker (tests/test_rabbitmq.py) names it in TEST_BROKER_URL.
    os.environ.pop("BROKER_URL", None)
    if os.environ.get("TEST_BROKER_URL"):
        os.environ["BROKER_URL"] = os.environ["TEST_BROKER_URL"]
    os.chdir(folder)


# Last, after pytest's own unconfigure collects garbage: a collected AsyncResult
# unsubscribes from its result channel, and with Redis already stopped Celery
# would spend 20 s reconnecting.
@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    gc.collect()
    _close_result_consumer()
    if "smtp" in _STATE:
        _STATE["smtp"].stop()
    if "redis" in _STATE:
        _STATE["redis"].stop()
    shutil.rmtree(_STATE.get("folder", ""), ignore_errors=True)


def _close_result_consumer() -> None:
    """Unsubscribe the test process from result pub/sub while Redis still runs;
    otherwise Celery spends 20 s reconnecting to the stopped server at exit."""
    import sys

    project = sys.modules.get("project")
    if project is None:
        return
    consumer = getattr(project.app.backend, "result_consumer", None)
    if consumer is not None and getattr(consumer, "_pubsub", None) is not None:
        consumer.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ["REDIS_URL"]


@pytest.fixture(scope="session")
def smtp() -> SmtpSink:
    sink: SmtpSink = _STATE["smtp"]
    return sink


@pytest.fixture(scope="session")
def app() -> Any:
    from project import app as celery_app

    return celery_app


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of this test's own, which it may stop, kill or restart (the
    session's Redis serves every other test)."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def worker(app: Any) -> Iterator[Any]:
    """A real worker in threads of this process, consuming every queue."""
    from tests.support.workers import thread_worker

    with thread_worker(app) as running:
        yield running
