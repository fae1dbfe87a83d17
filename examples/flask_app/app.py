"""The Flask app: `POST /signup` enqueues a task, `GET /tasks/<id>` reports on it.

Run it with `flask --app examples.flask_app run` beside a worker
(`celery -A project worker`); both read the same environment (REDIS_URL, ...).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from project.errors import ValidationFailed
from project.mail.address import EmailAddress
from project.tasks.accounts import AccountEvent, Signup, handle_account_event
from project.typed.task import field_errors

api = Blueprint("api", __name__)


class SignupRequest(BaseModel):
    """The body of `POST /signup`."""

    model_config = ConfigDict(extra="forbid")

    email: EmailAddress
    name: str | None = Field(default=None, max_length=200)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SUPPORT_ADDRESS="support@example.com")
    # FLASK_SUPPORT_ADDRESS=... and the like override the defaults.
    app.config.from_prefixed_env()
    app.config.update(config or {})
    app.register_blueprint(api)
    return app


@api.post("/signup")
def signup() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _refused([{"loc": [], "msg": "expected a JSON object", "type": "json"}])
    try:
        form = SignupRequest.model_validate(body)
    except ValidationError as exc:
        return _refused(field_errors(exc))
    # A real app creates the user row here; the example makes up its id.
    event = Signup(
        type="signup", user_id=str(uuid.uuid4()), email=form.email, name=form.name
    )
    handle = handle_account_event.delay(AccountEvent(event))
    location = url_for("api.task_status", task_id=handle.id)
    return jsonify(task_id=handle.id, status_url=location), 202, {"Location": location}


@api.get("/tasks/<task_id>")
def task_status(task_id: str) -> tuple[Response, int]:
    try:
        uuid.UUID(task_id)
    except ValueError:
        return jsonify(error="not a task id"), 404
    handle = handle_account_event.result(task_id)
    body: dict[str, Any] = {"task_id": task_id, "status": handle.status}
    if handle.successful():
        result = handle.get(timeout=5)
        body["result"] = result.model_dump(mode="json")
    elif handle.failed():
        body["error"] = _describe_failure(handle.async_result.result)
    return jsonify(body), 200


def _describe_failure(exc: object) -> dict[str, Any]:
    if isinstance(exc, ValidationFailed):
        return {"type": type(exc).__name__, "fields": exc.errors}
    # Other messages may quote data; the type is enough for a client.
    return {"type": type(exc).__name__}


def _refused(errors: list[dict[str, Any]]) -> tuple[Response, int]:
    fields = [
        {"loc": error.get("loc", []), "msg": error.get("msg")} for error in errors
    ]
    return jsonify(error="invalid signup", fields=fields), 422
