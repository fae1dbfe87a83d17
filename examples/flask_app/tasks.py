"""A task that needs Flask's application context, declared with `in_app_context`.

A worker imports this module (add it to the worker's `include`, or to
`project.celery_app.TASK_MODULES` in an app built on this template).
"""

from __future__ import annotations

import functools

from flask import Flask, current_app
from pydantic import BaseModel

from examples.flask_app.app import create_app
from examples.flask_app.context import in_app_context
from project.queues import DEFAULT
from project.typed import typed_task


@functools.cache
def worker_app() -> Flask:
    """The worker's Flask app, built on first use, once per process."""
    return create_app()


class SupportContactRequest(BaseModel):
    user_id: str


class SupportContact(BaseModel):
    user_id: str
    app_name: str
    support_address: str


@typed_task(name="flask_example.support_contact", queue=DEFAULT.name)
@in_app_context(worker_app)
def support_contact(request: SupportContactRequest) -> SupportContact:
    """Read the support address from the Flask app's configuration."""
    return SupportContact(
        user_id=request.user_id,
        app_name=current_app.name,
        support_address=current_app.config["SUPPORT_ADDRESS"],
    )
