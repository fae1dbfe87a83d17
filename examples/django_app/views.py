"""`POST /signup`: create the user row, then send the welcome e-mail after commit."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import User  # type: ignore[import-untyped]
from django.db import IntegrityError, transaction  # type: ignore[import-untyped]
from django.http import HttpRequest, JsonResponse  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]
from django.views.decorators.http import require_POST  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from project.django import delay_on_commit
from project.mail.address import EmailAddress
from project.tasks.email import EmailJob, EmailTemplate, send_email
from project.typed.task import field_errors


class SignupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=150)
    email: EmailAddress
    name: str | None = Field(default=None, max_length=200)
    # Validate and create everything, then roll back: nothing is kept or sent.
    dry_run: bool = False


def create_signup(request: HttpRequest) -> JsonResponse:
    try:
        form = SignupRequest.model_validate(json.loads(request.body or b"null"))
    except (ValidationError, ValueError) as exc:
        return _refused(exc)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=form.username, email=form.email)
            job = EmailJob(
                user_id=str(user.pk),
                email=form.email,
                template=EmailTemplate.WELCOME,
                name=form.name,
            )
            handle = delay_on_commit(send_email, job)
            if form.dry_run:
                transaction.set_rollback(True)
    except IntegrityError:
        return JsonResponse({"error": "that username is taken"}, status=409)
    if form.dry_run:
        return JsonResponse({"dry_run": True}, status=200)
    return JsonResponse({"user_id": user.pk, "task_id": handle.id}, status=201)


# An API endpoint for other services; a browser form would keep CSRF protection.
signup = csrf_exempt(require_POST(create_signup))


def _refused(exc: Exception) -> JsonResponse:
    if isinstance(exc, ValidationError):
        fields: list[dict[str, Any]] = [
            {"loc": error["loc"], "msg": error["msg"]} for error in field_errors(exc)
        ]
    else:
        fields = [{"loc": [], "msg": "expected a JSON object"}]
    return JsonResponse({"error": "invalid signup", "fields": fields}, status=422)
