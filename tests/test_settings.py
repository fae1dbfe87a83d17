"""Configuration is checked at start-up; each bad value is named with the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from project.celery_app import celery_config
from project.errors import ConfigurationError
from project.settings import load_settings


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"redis_url": "http://127.0.0.1:6379/0"},
            "REDIS_URL: expected a URL starting with redis:// or rediss://",
        ),
        (
            {"broker_url": "kafka://broker:9092"},
            "BROKER_URL: expected a URL starting with",
        ),
        (
            {"smtp_port": 70000},
            "SMTP_PORT: Input should be less than or equal to 65535",
        ),
        ({"smtp_port": 0}, "SMTP_PORT: Input should be greater than or equal to 1"),
        ({"mail_from": "no-reply"}, "MAIL_FROM: expected an e-mail address"),
        ({"smtp_host": "smtp://mail.example.com"}, "SMTP_HOST: expected a host name"),
        ({"app_env": "prod"}, "APP_ENV: Input should be 'development', 'test' or"),
    ],
)
def test_a_bad_value_names_the_variable(
    overrides: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(**overrides)

    assert expected in str(raised.value)
    assert "Set " in str(raised.value)


def test_values_are_never_echoed() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(broker_url="kafka://user:hunter2@broker:9092")

    assert "hunter2" not in str(raised.value)


def test_a_placeholder_secret_is_refused_outside_development() -> None:
    with pytest.raises(
        ConfigurationError, match="SMTP_PASSWORD still holds a placeholder"
    ):
        load_settings(app_env="production", smtp_password="changeme")

    assert load_settings(app_env="development", smtp_password="changeme")


def test_broker_defaults_to_redis_and_accepts_amqp() -> None:
    assert load_settings().effective_broker_url == os.environ["REDIS_URL"]
    amqp = load_settings(broker_url="amqp://guest:guest@127.0.0.1:5672//")
    assert celery_config(amqp)["broker_url"].startswith("amqp://")
    assert celery_config(amqp)["result_backend"] == os.environ["REDIS_URL"]


def test_celery_is_configured_for_json_only_and_late_acks() -> None:
    config = celery_config(load_settings(visibility_timeout_s=120))

    assert config["accept_content"] == ["json"]
    assert config["result_accept_content"] == ["json"]
    assert config["task_serializer"] == "json"
    assert config["task_acks_late"] is True
    assert config["worker_send_task_events"] is True
    assert config["task_send_sent_event"] is True
    assert config["broker_connection_retry_on_startup"] is True
    assert config["broker_transport_options"]["visibility_timeout"] == 120
    assert config["result_backend_transport_options"]["visibility_timeout"] == 120


def test_the_worker_refuses_to_start_with_a_bad_setting() -> None:
    env = {**os.environ, "REDIS_URL": "mysql://db/0", "SMTP_PORT": "99999"}

    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "project", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode != 0
    assert "REDIS_URL: expected a URL starting with redis://" in done.stderr
    assert "SMTP_PORT: Input should be less than or equal to 65535" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("secret", ["ChangeMe", "PASSWORD", " secret "])
def test_placeholders_are_refused_whatever_their_case(secret: str) -> None:
    with pytest.raises(ConfigurationError, match="placeholder"):
        load_settings(app_env="production", smtp_password=secret)
    with pytest.raises(ConfigurationError, match="FLOWER_BASIC_AUTH still holds"):
        load_settings(app_env="production", flower_basic_auth=f"admin:{secret}")


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / ".env"


def test_an_unreadable_env_line_stops_start_up(env_file: Path) -> None:
    # Given a .env whose second line has an unclosed quote
    env_file.write_text('APP_ENV=development\nSMTP_PORT="1035\n')

    with pytest.raises(ConfigurationError) as raised:
        load_settings()

    assert ".env line 2 cannot be read" in str(raised.value)
    assert "1035" not in str(raised.value)


def test_a_misspelt_env_variable_is_named_with_the_right_one(env_file: Path) -> None:
    env_file.write_text("SMPT_PORT=1035\n")

    with pytest.raises(ConfigurationError, match="line 1 sets SMPT_PORT") as raised:
        load_settings()

    assert "did you mean SMTP_PORT?" in str(raised.value)


def test_other_variables_in_a_shared_env_are_left_alone(env_file: Path) -> None:
    env_file.write_text(
        "DATABASE_URL=postgresql://localhost/test\nWORKER_POOL=threads\n"
        "APP_NAME=Shared\n"
    )

    assert load_settings().app_name == "Shared"
