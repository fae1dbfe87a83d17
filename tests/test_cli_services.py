"""A service that is down, or refuses the login: one clear line, exit code 1, no
traceback, and the password never printed.

No worker runs in this module, so whatever is published stays in the queue.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator

import pytest
import redis

from tests.support.cli import empty_queue, project
from tests.support.ports import free_port

PAYLOAD = json.dumps(
    {"user_id": "u-down", "email": "down@example.com", "template": "welcome"}
)


def one_line(done: subprocess.CompletedProcess[str], *phrases: str) -> str:
    """Exit code 1 and a single line on stderr holding every phrase."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for phrase in phrases:
        assert phrase in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def down_url() -> str:
    """REDIS_URL of a port where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.mark.parametrize(
    "args",
    [
        ["deadletter", "list"],
        ["deadletter", "show", "0123456789abcdef"],
        ["deadletter", "replay", "0123456789abcdef"],
        ["deadletter", "replay", "--all"],
        ["deadletter", "purge", "--yes"],
        ["deadletter", "purge", "--older-than", "7d"],
        ["schedules"],
        ["schedules", "run", "cleanup"],
        ["schedules", "add", "down", "0 3 * * *", "email.send", PAYLOAD],
        ["schedules", "remove", "down"],
        ["send", "email.send", PAYLOAD],
    ],
    ids=" ".join,
)
def test_every_command_says_in_one_line_that_redis_is_down(
    down_url: str, args: list[str]
) -> None:
    done = project(*args, REDIS_URL=down_url)

    one_line(done, "cannot reach Redis", "(REDIS_URL)", "is it running?")


def test_help_and_usage_errors_need_no_redis(down_url: str) -> None:
    assert project("deadletter", "list", "--help", REDIS_URL=down_url).returncode == 0
    bad = project("schedules", "add", "x", "61 * * * *", "email.send", PAYLOAD)
    assert bad.returncode == 2


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    yield from empty_queue(redis_url, "email")


def test_a_wait_without_worker_ends_with_the_error_alone(broker: redis.Redis) -> None:
    done = project("send", "email.send", PAYLOAD, "--wait", "--timeout", "1")

    line = one_line(done, "gave no result within 1 s", "is a worker running?")
    assert "Exception ignored" not in done.stderr
    assert line.startswith("error: task ")


def rabbitmq_listens() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not rabbitmq_listens(), reason="no RabbitMQ on 127.0.0.1:5672")
def test_a_refused_broker_login_names_the_credentials_not_the_password() -> None:
    done = project(
        "send",
        "email.send",
        PAYLOAD,
        BROKER_URL="amqp://guest:s3cret-wrong@127.0.0.1:5672//",
    )

    line = one_line(done, "refused the credentials in BROKER_URL", "127.0.0.1:5672")
    assert "s3cret-wrong" not in done.stderr
    assert "cannot reach" not in line
