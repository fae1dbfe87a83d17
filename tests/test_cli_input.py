"""Refused input on the command line: exit code 2, a message naming the field or
option and the fix, no traceback, and nothing published or written.

No worker runs in this module, so whatever is published stays in the queue.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from project.deadletter import DeadLetter, dead_letter_store
from project.errors import DeclarationError
from project.scheduling.entries import ScheduleEntry
from project.tasks.email import EmailJob, send_email
from tests.support.cli import empty_queue, project, pushes
from tests.support.deadletters import stored

PAYLOAD = {"user_id": "u-cli", "email": "cli@example.com", "template": "welcome"}


def refused(done: subprocess.CompletedProcess[str], *phrases: str) -> None:
    """Exit code 2 and every phrase in stderr, without a traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    for phrase in phrases:
        assert phrase in done.stderr


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    yield from empty_queue(redis_url, "email")


# -- send --from-file with bytes that are not UTF-8 ---------------------------


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(
    broker: redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "payloads.jsonl"
    path.write_bytes(json.dumps(PAYLOAD).encode() + b'\n{"user_id": "\xff"}\n')
    before = pushes(broker)

    done = project("send", "email.send", "--from-file", str(path))

    refused(done, str(path), "line 2: not UTF-8", "save the file as UTF-8")
    assert "line 1" not in done.stderr
    assert pushes(broker) == before
    assert broker.llen("email") == 0


# -- a cron expression that never fires ----------------------------------------


def test_schedules_add_refuses_a_cron_that_never_fires() -> None:
    done = project(
        "schedules", "add", "never", "0 0 31 2 *", "email.send", json.dumps(PAYLOAD)
    )

    refused(done, "schedule entry 'never'", "never fires")
    listed = project("schedules", "--json")
    assert "never" not in {row["name"] for row in json.loads(listed.stdout)}


def test_a_declared_entry_whose_cron_never_fires_stops_the_import() -> None:
    job = EmailJob.model_validate(PAYLOAD)

    with pytest.raises(DeclarationError, match=r"schedule entry 'feb-30'.*never fires"):
        ScheduleEntry(name="feb-30", cron="0 0 30 2 *", task=send_email, payload=job)
    # Rare is not never: 29 February comes every four years.
    leap = ScheduleEntry(name="leap", cron="0 0 29 2 *", task=send_email, payload=job)
    assert leap.cron == "0 0 29 2 *"


# -- deadletter purge --older-than beyond datetime's range ---------------------


@pytest.mark.parametrize("age", ["99999999999d", "999999d", "36501d", "9999999w"])
def test_purge_refuses_an_age_too_large_naming_the_largest(age: str) -> None:
    done = project("deadletter", "purge", "--older-than", age)

    refused(done, "--older-than", "the largest accepted age is 36500d")


def test_purge_accepts_the_largest_age() -> None:
    done = project("deadletter", "purge", "--older-than", "36500d")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("removed ")


# -- --timeout must be above 0, checked before anything is published ----------


@pytest.mark.parametrize("timeout", ["0", "-1"])
def test_send_refuses_a_timeout_of_zero_or_less(
    broker: redis.Redis, timeout: str
) -> None:
    before = pushes(broker)

    done = project(
        "send", "email.send", json.dumps(PAYLOAD), "--wait", "--timeout", timeout
    )

    refused(done, "--timeout")
    assert pushes(broker) == before


@pytest.mark.parametrize("timeout", ["0", "-1"])
def test_schedules_run_refuses_a_timeout_of_zero_or_less(
    redis_url: str, timeout: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    before = pushes(client)

    done = project("schedules", "run", "cleanup", "--wait", "--timeout", timeout)

    refused(done, "--timeout")
    assert pushes(client) == before
    client.close()


# -- schedules add over an existing dynamic entry ------------------------------


def test_add_refuses_an_existing_dynamic_name_unless_replace() -> None:
    name = f"twice-{uuid.uuid4().hex[:8]}"
    payload = json.dumps(PAYLOAD)
    first = project("schedules", "add", name, "0 3 * * *", "email.send", payload)
    assert first.returncode == 0, first.stderr

    again = project("schedules", "add", name, "0 4 * * *", "email.send", payload)
    refused(
        again, f"schedule entry '{name}' exists", "remove it first, or pass --replace"
    )
    assert cron_of(name) == "0 3 * * *"

    replaced = project(
        "schedules", "add", name, "0 5 * * *", "email.send", payload, "--replace"
    )
    assert replaced.returncode == 0, replaced.stderr
    assert cron_of(name) == "0 5 * * *"
    assert project("schedules", "remove", name).returncode == 0


def cron_of(name: str) -> str:
    rows = json.loads(project("schedules", "--json").stdout)
    [row] = [row for row in rows if row["name"] == name]
    return str(row["cron"])


# -- deadletter show and replay by a prefix of the id ---------------------------


@pytest.fixture
def two_letters() -> Iterator[tuple[str, DeadLetter, DeadLetter]]:
    """Two dead letters whose ids share a 12-character prefix; the payload of
    the second no longer validates, so replaying it publishes nothing."""
    prefix = uuid.uuid4().hex[:12]
    valid = stored(f"{prefix}-a-{uuid.uuid4().hex}", PAYLOAD)
    stale = stored(f"{prefix}-b-{uuid.uuid4().hex}", {"user_id": "u"})
    yield prefix, valid, stale
    dead_letter_store().delete(valid.id)
    dead_letter_store().delete(stale.id)


def test_show_takes_a_unique_prefix_of_the_id(
    two_letters: tuple[str, DeadLetter, DeadLetter],
) -> None:
    prefix, valid, _ = two_letters

    done = project("deadletter", "show", f"{prefix}-a")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == valid.id


def test_an_ambiguous_prefix_is_refused_listing_the_matches(
    two_letters: tuple[str, DeadLetter, DeadLetter],
) -> None:
    prefix, valid, stale = two_letters

    for command in ("show", "replay"):
        done = project("deadletter", command, prefix)
        refused(done, f"2 dead letters have ids starting with {prefix}", valid.id)
        assert stale.id in done.stderr
    assert dead_letter_store().get(valid.id) == valid


def test_a_prefix_shorter_than_8_characters_is_not_looked_up(
    two_letters: tuple[str, DeadLetter, DeadLetter],
) -> None:
    prefix, _, _ = two_letters

    done = project("deadletter", "show", prefix[:7])

    assert done.returncode == 1
    assert f"no dead letter has id {prefix[:7]}" in done.stderr
    assert "at least 8 characters" in done.stderr


def test_replay_takes_a_unique_prefix_of_the_id(
    broker: redis.Redis, two_letters: tuple[str, DeadLetter, DeadLetter]
) -> None:
    prefix, _, stale = two_letters

    done = project("deadletter", "replay", f"{prefix}-b")

    # The prefix found the stale letter: it is kept, and nothing was published.
    refused(done, f"dead letter {stale.id} is kept: invalid payload")
    assert dead_letter_store().get(stale.id) == stale
    assert broker.llen("email") == 0


# -- usage ---------------------------------------------------------------------


def test_send_usage_shows_json_as_optional() -> None:
    done = project("send", "--help")

    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == "Usage: project send [OPTIONS] TASK [JSON]"
