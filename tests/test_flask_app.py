"""The Flask example with its test client and a real worker: the e-mail arrives."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from examples.flask_app import create_app
from examples.flask_app.tasks import SupportContactRequest, support_contact
from project.tasks.accounts import handle_account_event
from tests.support.smtp import SmtpSink


@pytest.fixture
def client() -> FlaskClient:
    return create_app({"TESTING": True}).test_client()


def poll_status(client: FlaskClient, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(url).get_json()
        if body["status"] in ("SUCCESS", "FAILURE"):
            return body
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not finish within 60 s")


def test_signup_enqueues_and_the_welcome_email_arrives(
    worker: Any, smtp: SmtpSink, client: FlaskClient
) -> None:
    # When a visitor signs up
    response = client.post(
        "/signup", json={"email": "flask@example.com", "name": "Ada"}
    )

    # Then the request is accepted at once with the task's id and status URL
    assert response.status_code == 202
    body = response.get_json()
    assert response.headers["Location"] == body["status_url"]
    assert body["status_url"] == f"/tasks/{body['task_id']}"
    # and the status reports the typed result: the e-mail task it enqueued
    status = poll_status(client, body["status_url"])
    assert status["status"] == "SUCCESS", status
    assert status["result"]["event_type"] == "signup"
    [received] = smtp.wait_for("flask@example.com")
    assert received.message["Message-ID"].startswith(
        f"<{status['result']['email_task_id']}@"
    )


def test_an_invalid_signup_is_refused_with_the_fields(client: FlaskClient) -> None:
    response = client.post("/signup", json={"email": "not-an-address", "extra": 1})

    assert response.status_code == 422
    fields = {tuple(field["loc"]) for field in response.get_json()["fields"]}
    assert fields == {("email",), ("extra",)}


def test_a_body_that_is_not_an_object_is_refused(client: FlaskClient) -> None:
    response = client.post("/signup", data="[1]", content_type="application/json")

    assert response.status_code == 422
    assert response.get_json()["fields"][0]["msg"] == "expected a JSON object"


def test_an_unknown_task_id_reads_pending_and_garbage_is_not_found(
    client: FlaskClient,
) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"

    assert client.get(f"/tasks/{unknown}").get_json()["status"] == "PENDING"
    assert client.get("/tasks/not-an-id").status_code == 404


def test_a_task_runs_inside_the_flask_app_context(worker: Any) -> None:
    # current_app would raise outside an application context
    handle = support_contact.delay(SupportContactRequest(user_id="u-1"))

    result = handle.get(timeout=60)

    assert result.support_address == create_app().config["SUPPORT_ADDRESS"]
    assert result.app_name == "examples.flask_app.app"


def test_a_failed_task_reports_its_error_and_fields(
    worker: Any, client: FlaskClient
) -> None:
    # Given a message that bypassed validation (another producer's bug)
    sent = handle_account_event.celery_task.apply_async(args=({"type": "signup"},))

    status = poll_status(client, f"/tasks/{sent.id}")

    assert status["status"] == "FAILURE"
    assert status["error"]["type"] == "PayloadInvalid"
    fields = {tuple(field["loc"])[-1] for field in status["error"]["fields"]}
    assert {"user_id", "email"} <= fields
