"""A Flask app that enqueues typed tasks; `create_app()` builds it."""

from examples.flask_app.app import create_app

__all__ = ["create_app"]
