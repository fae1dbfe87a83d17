"""Flower in a real headless browser: Debian's chromium driven by Playwright.

Given Flower behind basic auth and an `email.send` task sent while no worker
runs, when a worker starts, then a logged-in browser sees the worker online and
the task succeeded, and saves a screenshot under test-artifacts/.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from project.tasks.email import EmailJob, send_email
from tests.support.flower import FlowerProcess
from tests.support.smtp import SmtpSink
from tests.support.workers import ROOT, WorkerProcess

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
# No sandbox: the suite may run as root, where chromium's sandbox refuses to start.
# The rest keeps a test browser from reaching anything but the page under test.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
    "--disable-dev-shm-usage",
]

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed: run `make browser`"
        " (scripts/install-browser.sh)",
        allow_module_level=True,
    )


def wait_until(condition: Any, timeout_s: float = 60.0, every_s: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every_s)
    raise TimeoutError(f"condition not met within {timeout_s} s")


@pytest.fixture(scope="module")
def credentials() -> tuple[str, str]:
    return "ops", secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def flower(
    tmp_path_factory: pytest.TempPathFactory, credentials: tuple[str, str]
) -> Iterator[FlowerProcess]:
    auth = ":".join(credentials)
    process = FlowerProcess(
        tmp_path_factory.mktemp("flower-browser"), {"FLOWER_BASIC_AUTH": auth}
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sent_then_done(
    flower: FlowerProcess,
    credentials: tuple[str, str],
    smtp: SmtpSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str, str]]:
    """(task id, worker hostname, address): sent with no worker, then run."""
    auth = ":".join(credentials)
    address = f"browser.{uuid.uuid4().hex[:6]}@example.com"
    task_id = _send_until_flower_sees_it(flower, auth, address)
    seen = flower.get_json(f"/api/task/info/{task_id}", auth)
    assert seen["state"] == "PENDING", seen

    log = tmp_path_factory.mktemp("browser-worker") / "worker.log"
    worker = WorkerProcess({}, log, "-P", "threads", "-c", "2", "-Q", "email")
    worker.start()
    try:
        smtp.wait_for(address, timeout_s=60)
        hostname = re.search(r"(test-\S+@\S+) ready\.", worker.log())
        assert hostname is not None
        wait_until(
            lambda: (
                flower.get_json(f"/api/task/info/{task_id}", auth)["state"] == "SUCCESS"
            )
        )
        yield task_id, hostname.group(1), address
    finally:
        assert worker.stop() == 0


def _send_until_flower_sees_it(flower: FlowerProcess, auth: str, address: str) -> str:
    # Flower subscribes to events a moment after its HTTP server answers; a
    # task sent before that is not seen, so the first sends may repeat.
    for _ in range(10):
        handle = send_email.delay(
            EmailJob(user_id="u-browser", email=address, template="welcome")
        )
        if flower.sees_task(handle.id, auth):
            return handle.id
    raise AssertionError("Flower saw none of 10 tasks sent while it ran")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def test_logged_in_browser_sees_worker_online_and_task_succeeded(
    browser: Any,
    flower: FlowerProcess,
    credentials: tuple[str, str],
    sent_then_done: tuple[str, str, str],
) -> None:
    task_id, hostname, address = sent_then_done
    user, password = credentials
    context = browser.new_context(
        http_credentials={"username": user, "password": password},
        viewport={"width": 1400, "height": 900},
    )
    page = context.new_page()
    try:
        response = page.goto(f"{flower.url}/workers")
        assert response is not None
        assert response.status == 200
        row = page.locator("tr", has_text=hostname)
        row.wait_for(timeout=30_000)
        assert "Online" in row.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "flower-workers.png"), full_page=True)

        page.goto(f"{flower.url}/tasks")
        task_row = page.locator("tr", has_text=task_id)
        task_row.wait_for(timeout=30_000)
        assert "SUCCESS" in task_row.inner_text()
        assert "email.send" in task_row.inner_text()
        page.screenshot(path=str(ARTIFACTS / "flower-tasks.png"), full_page=True)

        page.goto(f"{flower.url}/task/{task_id}")
        body = page.locator("body").inner_text()
        assert "SUCCESS" in body
        # The payload shows with its address masked: Flower is no address book.
        assert address not in page.content()
        page.screenshot(path=str(ARTIFACTS / "flower-task.png"), full_page=True)
    finally:
        context.close()


def test_browser_without_credentials_gets_401(
    browser: Any, flower: FlowerProcess
) -> None:
    # Chromium turns a 401 page into a navigation error, so ask through the
    # context's own HTTP client, which keeps the status.
    context = browser.new_context()
    wrong = browser.new_context(
        http_credentials={"username": "ops", "password": "not-the-password"}
    )
    try:
        for path in ("/", "/tasks", "/api/workers", "/api/tasks"):
            assert context.request.get(f"{flower.url}{path}").status == 401, path
            assert wrong.request.get(f"{flower.url}{path}").status == 401, path
    finally:
        context.close()
        wrong.close()


def test_artifacts_folder_is_ignored_by_git() -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "test-artifacts/" in ignored
