"""Flower as deployed: `celery -A project flower` with the repo's flowerconfig.py.

The browser test is in test_flower_browser.py; these check the HTTP surface.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu.entity import Queue

from project.tasks.email import EmailJob, send_email
from tests.support.flower import FlowerProcess, run_flower_until_exit
from tests.support.ports import free_port

pytestmark = pytest.mark.slow

USER = "ops"


def wait_until(condition: Any, timeout_s: float = 30.0, every_s: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every_s)
    raise TimeoutError(f"condition not met within {timeout_s} s")


@pytest.fixture(scope="module")
def credentials() -> str:
    return f"{USER}:{secrets.token_urlsafe(12)}"


@pytest.fixture(scope="module")
def flower(
    tmp_path_factory: pytest.TempPathFactory, credentials: str
) -> Iterator[FlowerProcess]:
    folder = tmp_path_factory.mktemp("flower")
    process = FlowerProcess(folder, {"FLOWER_BASIC_AUTH": credentials}).start()
    yield process
    process.stop()


def test_refuses_to_start_open_on_every_interface(tmp_path: Path) -> None:
    port = free_port()

    done = run_flower_until_exit(tmp_path, {"FLOWER_BASIC_AUTH": ""}, f"--port={port}")

    assert done.returncode != 0
    assert "FLOWER_BASIC_AUTH is not set" in done.stderr
    assert "--address=127.0.0.1" in done.stderr


def test_refuses_a_public_address_without_credentials(tmp_path: Path) -> None:
    done = run_flower_until_exit(
        tmp_path,
        {"FLOWER_BASIC_AUTH": ""},
        f"--port={free_port()}",
        "--address=0.0.0.0",
    )

    assert done.returncode != 0
    assert "would listen on address '0.0.0.0'" in done.stderr


def test_refuses_a_malformed_credential(tmp_path: Path) -> None:
    done = run_flower_until_exit(
        tmp_path, {"FLOWER_BASIC_AUTH": "only-a-user"}, f"--port={free_port()}"
    )

    assert done.returncode != 0
    assert "FLOWER_BASIC_AUTH: expected user:password" in done.stderr
    assert "only-a-user" not in done.stderr


def test_on_loopback_without_credentials_the_api_stays_closed(tmp_path: Path) -> None:
    process = FlowerProcess(tmp_path, {"FLOWER_BASIC_AUTH": ""}).start()
    try:
        assert process.get("/api/workers")[0] == 401
        assert process.get("/healthcheck") == (200, b"OK")
    finally:
        process.stop()


@pytest.mark.parametrize(
    "path", ["/", "/workers", "/tasks", "/broker", "/api/workers", "/api/tasks"]
)
def test_ui_and_api_answer_401_without_credentials(
    flower: FlowerProcess, credentials: str, path: str
) -> None:
    wrong = f"{USER}:not-the-password"

    assert flower.get(path)[0] == 401
    assert flower.get(path, wrong)[0] == 401
    assert flower.get(path, credentials)[0] == 200


def test_metrics_and_healthcheck_stay_open(flower: FlowerProcess) -> None:
    status, body = flower.get("/metrics")

    assert status == 200
    assert b"flower_events_total" in body
    assert flower.get("/healthcheck") == (200, b"OK")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/task/send-task/email.send"),
        ("POST", "/api/task/async-apply/email.send"),
        ("POST", "/api/task/apply/email.send"),
        ("POST", "/api/task/revoke/00000000-0000-0000-0000-000000000000"),
        ("POST", "/api/task/abort/00000000-0000-0000-0000-000000000000"),
        ("POST", "/api/worker/shutdown/celery@nowhere"),
        ("POST", "/api/worker/pool/grow/celery@nowhere"),
    ],
)
def test_task_running_and_control_endpoints_are_read_only(
    flower: FlowerProcess, credentials: str, method: str, path: str
) -> None:
    body = json.dumps({"args": [{"user_id": "u", "email": "a@example.com"}]})

    status, answer = flower.request(
        path, auth=credentials, method=method, body=body.encode()
    )

    assert status == 403, answer[:300]
    assert b"Read only" in answer or b"read only" in answer.lower()


def test_a_task_sent_without_a_worker_shows_and_survives_a_restart(
    tmp_path: Path, credentials: str
) -> None:
    env = {"FLOWER_BASIC_AUTH": credentials, "FLOWER_DATA_DIR": "state"}
    first = FlowerProcess(tmp_path, env).start()
    try:
        task_id = _send_until_flower_sees_it(first, credentials)
    finally:
        assert first.stop() == 0

    saved = list((tmp_path / "state").glob("flower*"))
    assert saved, "Flower saved no state on SIGTERM"
    second = FlowerProcess(tmp_path, env).start()
    try:
        info = second.get_json(f"/api/task/info/{task_id}", credentials)
    finally:
        second.stop()
    assert info["name"] == "email.send"
    assert info["state"] == "PENDING"


def _send_until_flower_sees_it(flower: FlowerProcess, credentials: str) -> str:
    """Flower subscribes to events shortly after its HTTP server is up: a task
    sent before that goes unseen, so send (to a queue no worker reads) again."""
    for _ in range(10):
        job = EmailJob(
            user_id="u-flower",
            email=f"f.{uuid.uuid4().hex[:6]}@example.com",
            template="welcome",
        )
        # A queue of our own keeps the message from a worker of another test.
        name = f"flower-{uuid.uuid4().hex}"
        handle = send_email.celery_task.apply_async(
            args=(send_email.dump_payload(job),),
            queue=Queue(name, routing_key=name),  # type: ignore[no-untyped-call]
        )
        if flower.sees_task(str(handle.id), credentials):
            return str(handle.id)
    raise AssertionError("Flower saw none of 10 tasks sent while it ran")


def test_make_run_starts_flower_on_loopback_with_a_session_credential(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from project.devstack import flower as devstack_flower
    from project.devstack.__main__ import processes
    from project.settings import load_settings

    # setenv first records the variable's state, so the undo removes what the
    # code under test puts there.
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "placeholder:value")
    monkeypatch.delenv("FLOWER_BASIC_AUTH")
    settings = load_settings()

    command = processes(settings)["flower"]
    credential = devstack_flower.session_credential(settings)

    assert "-m celery -A project flower --address=127.0.0.1 --port=" in command
    user, _, password = credential.partition(":")
    assert user == "admin"
    assert len(password) >= 16
    assert os.environ["FLOWER_BASIC_AUTH"] == credential
    assert password in "\n".join(devstack_flower.banner_lines(credential))


def test_flower_options_default_to_saved_state_and_purging(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from project.flower_config import flower_options
    from project.settings import load_settings

    settings = load_settings(
        flower_basic_auth="ops:pw-1, viewer:pw-2", flower_data_dir=str(tmp_path / "f")
    )
    current = SimpleNamespace(
        address="0.0.0.0", state_save_interval=0, purge_offline_workers=None
    )

    options = flower_options(settings, current)

    assert options["basic_auth"] == ["ops:pw-1", "viewer:pw-2"]
    assert options["read_only"] is True
    assert options["persistent"] is True
    assert options["db"] == str(tmp_path / "f" / "flower")
    assert (tmp_path / "f").is_dir()
    assert options["state_save_interval"] == 60_000
    assert options["purge_offline_workers"] == 3600


def test_an_offline_worker_is_purged(tmp_path: Path, credentials: str) -> None:
    from tests.support.workers import WorkerProcess

    env = {"FLOWER_BASIC_AUTH": credentials, "FLOWER_PURGE_OFFLINE_WORKERS": "2"}
    flower = FlowerProcess(tmp_path / "flower", env).start()
    worker = WorkerProcess({}, tmp_path / "worker.log", "-P", "threads", "-c", "1")
    try:
        worker.start()

        def listed() -> list[Any]:
            found: list[Any] = flower.get_json("/workers?json=1", credentials)["data"]
            return found

        online = wait_until(listed)
        assert [entry["status"] for entry in online] == [True]
        assert worker.stop() == 0

        # Gone from the list a little after it went offline, not an hour later.
        wait_until(lambda: listed() == [], timeout_s=30)
    finally:
        worker.stop()
        flower.stop()
