"""A database of the test run's own for the Django example, created and dropped here.

PostgreSQL on 127.0.0.1:5432 (trust auth, as this machine and CI run it) gets a
fresh database per run, so concurrent runs never share tables; without a
reachable server the example falls back to SQLite in the run's temp folder.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

SERVER = "postgresql://{user}@127.0.0.1:5432/postgres"
USERS = ("postgres", "root")


def _admin() -> tuple[psycopg.Connection[tuple[object, ...]], str] | None:
    for user in USERS:
        try:
            url = SERVER.format(user=user)
            return psycopg.connect(url, autocommit=True, connect_timeout=3), user
        except psycopg.OperationalError:
            continue
    return None


@pytest.fixture(scope="session")
def django_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Set up Django on a new database; yields the engine's vendor name."""
    admin = _admin()
    name = f"project_test_{uuid.uuid4().hex[:12]}"
    if admin is not None:
        connection, user = admin
        connection.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"postgresql://{user}@127.0.0.1:5432/{name}"
    else:
        os.environ.pop("DATABASE_URL", None)
        sqlite = Path(tmp_path_factory.mktemp("django")) / "db.sqlite3"
        os.environ["DJANGO_SQLITE_PATH"] = str(sqlite)
    os.environ["DJANGO_SETTINGS_MODULE"] = "examples.django_app.settings"
    import django  # type: ignore[import-untyped]
    from django.core.management import call_command  # type: ignore[import-untyped]
    from django.db import connection as django_connection  # type: ignore[import-untyped]

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    try:
        yield str(django_connection.vendor)
    finally:
        from django.db import connections

        connections.close_all()
        if admin is not None:
            admin[0].execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin[0].close()
