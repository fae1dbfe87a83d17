"""The Django example end to end: the user row commits, then a real worker mails."""

from __future__ import annotations

import json
from typing import Any

import pytest

from project.tasks.email import send_email
from tests.support.django_db import django_database  # noqa: F401
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.usefixtures("django_database")


def post(body: object) -> Any:
    from django.test import Client  # type: ignore[import-untyped]

    return Client().post(
        "/signup", data=json.dumps(body), content_type="application/json"
    )


def test_signup_commits_the_user_and_the_welcome_email_arrives(
    worker: Any, smtp: SmtpSink
) -> None:
    from django.contrib.auth.models import User  # type: ignore[import-untyped]

    # When a visitor signs up
    response = post(
        {"username": "grace", "email": "grace@example.com", "name": "Grace"}
    )

    # Then the row exists and the e-mail task, enqueued after the commit, ran
    assert response.status_code == 201, response.content
    body = response.json()
    user = User.objects.get(username="grace")
    assert body["user_id"] == user.pk
    result = send_email.result(body["task_id"]).get(timeout=60)
    assert result.message_id.startswith(f"<{body['task_id']}@")
    [received] = smtp.wait_for("grace@example.com")
    assert "Grace" in received.message.get_body().get_content()  # type: ignore[union-attr]


def test_a_rolled_back_signup_sends_nothing(worker: Any, smtp: SmtpSink) -> None:
    # Given a dry run (rolled back), then a real signup on the same queue
    dry = post({"username": "dry-2", "email": "dry-2@example.com", "dry_run": True})
    real = post({"username": "real-2", "email": "real-2@example.com"})
    assert (dry.status_code, real.status_code) == (200, 201)

    # When the real signup's e-mail has arrived
    smtp.wait_for("real-2@example.com")

    # Then none was ever sent for the rolled-back one
    assert smtp.to("dry-2@example.com") == []
