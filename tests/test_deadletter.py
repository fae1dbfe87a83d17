"""Dead letters from a real worker, and `project deadletter` as a user runs it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from project.cli import main
from project.deadletter import Reason, dead_letter_store
from project.errors import ResultInvalid, TransientError
from project.stats import read_day
from project.tasks.email import EmailJob, send_email
from tests.support.cli import project
from tests.support.deadletters import stored
from tests.support.fault_tasks import Crash, Flaky, bad_result, flaky
from tests.support.smtp import SmtpSink


def address(label: str) -> str:
    return f"{label}.{uuid.uuid4().hex[:8]}@example.com"


def refused_email(smtp: SmtpSink, label: str) -> tuple[str, str]:
    """Send an e-mail to a refused (550) recipient; its task id and the address."""
    recipient = address(label)
    smtp.refuse_rcpt[recipient] = 550
    handle = send_email.delay(
        EmailJob(user_id="u-dl", email=recipient, template="welcome")
    )
    with pytest.raises(Exception, match="550"):
        handle.get(timeout=20)
    return handle.id, recipient


def test_a_dead_letter_holds_everything_about_the_failure(worker: Any) -> None:
    # Given a message from another producer, with a field the model ignores
    name = uuid.uuid4().hex
    received = {"key": name, "failures": 99, "failure": "transient", "extra": 1}
    sent = flaky.celery_task.apply_async(args=(received,))

    # When every attempt fails
    with pytest.raises(TransientError):
        flaky.result(sent.id).get(timeout=20)

    # Then the dead letter has the payload as received and the whole story
    letter = dead_letter_store().get(sent.id)
    assert letter is not None
    assert letter.id == sent.id
    assert letter.task == "faults.flaky"
    assert letter.payload == received
    assert letter.reason is Reason.RETRIES_EXHAUSTED
    assert letter.error_type == "TransientError"
    assert letter.error_message == "attempt 3 fails on purpose"
    assert letter.traceback is not None
    assert "fault_tasks.py" in letter.traceback
    assert "TransientError: attempt 3 fails on purpose" in letter.traceback
    assert letter.attempts == 3
    # Two waits of FAST passed between the first and the last failure.
    spent = (letter.last_failed_at - letter.first_failed_at).total_seconds()
    assert 0.15 + 0.3 <= spent < 5


def test_a_dead_letter_is_counted_in_the_day_s_statistics(worker: Any) -> None:
    today = datetime.now(UTC).date()
    before = read_day(today).counts.get("faults.bad_result", {})
    handle = bad_result.delay(Crash(key="counted"))
    with pytest.raises(ResultInvalid):
        handle.get(timeout=20)
    after = read_day(today).counts["faults.bad_result"]
    assert after["dead_lettered"] == before.get("dead_lettered", 0) + 1


def test_an_invalid_result_is_a_dead_letter(worker: Any) -> None:
    handle = bad_result.delay(Crash(key="r"))
    with pytest.raises(ResultInvalid):
        handle.get(timeout=20)
    letter = dead_letter_store().get(handle.id)
    assert letter is not None
    assert letter.reason is Reason.INVALID_RESULT
    assert letter.attempts == 1


def test_list_and_show(worker: Any, smtp: SmtpSink) -> None:
    task_id, _ = refused_email(smtp, "listed")

    listed = project("deadletter", "list", "--task", "email.send", "--json")
    shown = project("deadletter", "show", task_id)
    table = project("deadletter", "list", "--reason", "permanent-error")

    assert listed.returncode == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows[task_id]["reason"] == "permanent-error"
    assert rows[task_id]["task"] == "email.send"
    assert "traceback" not in rows[task_id]
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["traceback"].startswith("Traceback")
    assert table.returncode == 0, table.stderr
    assert task_id[:8] in table.stdout
    assert project("deadletter", "list", "--reason", "bogus").returncode == 2
    missing = project("deadletter", "show", "no-such-id")
    assert missing.returncode == 1
    assert "no dead letter has id no-such-id" in missing.stderr


def test_replay_enqueues_again_and_deletes_only_after_publishing(
    worker: Any, smtp: SmtpSink
) -> None:
    # Given an e-mail that failed for good because the recipient was refused
    task_id, recipient = refused_email(smtp, "replayed")
    # ...and the recipient that is accepted again
    del smtp.refuse_rcpt[recipient]

    # When it is replayed
    done = project("deadletter", "replay", task_id)

    # Then a new task with a new id sends it, and the dead letter is gone
    assert done.returncode == 0, done.stderr
    old, new = done.stdout.split()[1::2]
    assert old == task_id
    assert new != task_id
    [received] = smtp.wait_for(recipient)
    assert received.message["Message-ID"].startswith(f"<{new}@")
    assert dead_letter_store().get(task_id) is None


def test_replay_keeps_a_payload_that_todays_model_refuses() -> None:
    letter = stored(f"stale-{uuid.uuid4().hex}")
    stale = letter.model_copy(
        update={"payload": {"user_id": "u", "email": "not-an-address"}}
    )
    dead_letter_store().add(stale)

    done = project("deadletter", "replay", stale.id)

    assert done.returncode == 2
    assert "is kept: invalid payload for task email.send" in done.stderr
    assert dead_letter_store().get(stale.id) == stale
    dead_letter_store().delete(stale.id)


def test_replay_all_of_one_task(worker: Any, smtp: SmtpSink) -> None:
    # Given a dozen dead letters of a task (and no others of it), and one of another
    task = "email.send"
    for earlier in dead_letter_store().entries(task=task):
        dead_letter_store().delete(earlier.id)
    mine = [stored(f"bulk-{uuid.uuid4().hex}") for _ in range(12)]
    other = stored(f"other-{uuid.uuid4().hex}", task="accounts.handle_event")
    before = {x.id for x in dead_letter_store().entries(task=task)}

    # When all of that task's are replayed
    done = project("deadletter", "replay", "--all", "--task", task)

    # Then each was enqueued again and deleted; the other task's stays
    assert done.returncode == 0, done.stderr
    replayed = {line.split()[1] for line in done.stdout.splitlines()}
    assert replayed == before
    assert f"replayed {len(before)}, kept 0" in done.stderr
    for letter in mine:
        assert dead_letter_store().get(letter.id) is None
        smtp.wait_for(str(letter.payload["email"]))  # type: ignore[index,call-overload]
    assert dead_letter_store().get(other.id) == other
    dead_letter_store().delete(other.id)


def test_replay_needs_an_id_or_all() -> None:
    assert project("deadletter", "replay").returncode == 2
    assert project("deadletter", "replay", "x", "--all").returncode == 2
    assert project("deadletter", "replay", "x", "--task", "email.send").returncode == 2


def test_purge_by_age(worker: Any) -> None:
    old = stored(f"old-{uuid.uuid4().hex}", minutes_ago=3 * 24 * 60)
    recent = stored(f"recent-{uuid.uuid4().hex}", minutes_ago=1)

    done = project("deadletter", "purge", "--older-than", "2d")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("removed ")
    assert dead_letter_store().get(old.id) is None
    assert dead_letter_store().get(recent.id) == recent
    assert (
        project("deadletter", "purge", "--older-than", "2 fortnights").returncode == 2
    )


def test_purge_everything_asks_first() -> None:
    letter = stored(f"asked-{uuid.uuid4().hex}")

    declined = project("deadletter", "purge", stdin="n\n")
    assert declined.returncode == 1
    assert dead_letter_store().get(letter.id) == letter

    done = project("deadletter", "purge", "--yes")
    assert done.returncode == 0, done.stderr
    assert dead_letter_store().count() == 0


def test_a_replayed_task_has_a_fresh_retry_budget(worker: Any) -> None:
    # Given a task that failed its three attempts (it fails five times in all)
    name = uuid.uuid4().hex
    handle = flaky.delay(Flaky(key=name, failures=5))
    with pytest.raises(TransientError):
        handle.get(timeout=20)

    # When it is replayed (in this process, where the test's tasks are known)
    done = CliRunner().invoke(main, ["deadletter", "replay", handle.id])

    # Then it gets three attempts again: fails twice more, then succeeds
    assert done.exit_code == 0, done.output
    new_id = done.output.split()[-1]
    assert flaky.result(new_id).get(timeout=20).attempts == 6
    assert dead_letter_store().get(handle.id) is None
