"""Settings read from the environment and `.env`, checked once at start-up.

Every field maps to an upper-case environment variable of the same name
(`redis_url` <- `REDIS_URL`). A wrong value stops start-up with a message that
names the variable, what it expects and how to fix it; values are never echoed,
because URLs and passwords may hold secrets.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from project.envfile import env_file_problems
from project.errors import ConfigurationError
from project.mail.address import normalize_address

BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "sentinel")
BACKEND_SCHEMES = ("redis", "rediss", "sentinel")

# Values that ship in `.env.example`; refused outside development.
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "password", ""})

Port = Annotated[int, Field(ge=1, le=65535)]
ENV_FILE = Path(".env")

MIN_VISIBILITY_TIMEOUT_S = 60
# Tests of crashes wait for redeliveries, so APP_ENV=test may go this low.
MIN_TEST_VISIBILITY_TIMEOUT_S = 5


def is_placeholder(secret: str) -> bool:
    """A value of `.env.example` or one like it, in any case (`ChangeMe`)."""
    return secret.strip().lower() in PLACEHOLDER_SECRETS


def _check_scheme(url: str, allowed: tuple[str, ...]) -> str:
    # Sentinel URLs list several servers separated by ";": check the first.
    parts = urlsplit(url.split(";")[0])
    if parts.scheme not in allowed:
        shown = f"'{parts.scheme}://'" if parts.scheme else "no scheme"
        raise ValueError(
            f"expected a URL starting with {' or '.join(s + '://' for s in allowed)},"
            f" got {shown}"
        )
    try:
        parts.port  # noqa: B018 - urllib checks the port only when it is read
    except ValueError:
        raise ValueError(
            "the port must be a number from 1 to 65535, as in redis://host:6379/0"
        ) from None
    database = parts.path.strip("/")
    if parts.scheme.startswith("redis") and database and not database.isdigit():
        raise ValueError(
            "the database after the last / must be a number, as in redis://host:6379/0"
        )
    return url


def _broker_url(url: str) -> str:
    return _check_scheme(url, BROKER_SCHEMES)


def _optional_broker_url(url: str | None) -> str | None:
    return None if url is None else _broker_url(url)


def _backend_url(url: str) -> str:
    return _check_scheme(url, BACKEND_SCHEMES)


def _mail_from(value: str) -> str:
    try:
        return normalize_address(value)
    except ValueError as exc:
        raise ValueError(
            f"expected an e-mail address like app@example.com: {exc}"
        ) from None


class Settings(BaseSettings):
    """The service's configuration. See the README's configuration table."""

    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
    )

    app_env: Literal["development", "test", "production"] = "development"
    app_name: str = "Example App"

    redis_url: Annotated[str, AfterValidator(_backend_url)] = "redis://127.0.0.1:6379/0"
    broker_url: Annotated[str | None, AfterValidator(_optional_broker_url)] = None
    # With late acks, an unacknowledged Redis message is delivered again after this
    # many seconds; broker and result backend must agree on it. Below 60 s only
    # with APP_ENV=test, where crash tests wait for redeliveries.
    visibility_timeout_s: Annotated[int, Field(ge=MIN_TEST_VISIBILITY_TIMEOUT_S)] = 3600
    result_expires_s: Annotated[int, Field(ge=60)] = 86400
    amqp_quorum_queues: bool = False

    smtp_host: str = "127.0.0.1"
    smtp_port: Port = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    mail_from: Annotated[str, AfterValidator(_mail_from)] = "no-reply@example.com"

    # Failure handling (docs/FAILURES.md). Dead letters beyond the bound push out
    # the oldest; `maintenance.cleanup` removes those older than the retention.
    dead_letter_max: Annotated[int, Field(ge=1)] = 10_000
    dead_letter_retention_days: Annotated[int, Field(ge=1)] = 30
    # Runs of one attempt that may kill their worker before the message is
    # quarantined as a dead letter with reason worker-lost.
    poison_max_deliveries: Annotated[int, Field(ge=1, le=100)] = 3
    # How long "this task already sent its e-mail" is remembered; must outlive
    # any redelivery, so it is checked against the visibility timeout.
    idempotency_ttl_s: Annotated[int, Field(ge=60)] = 7 * 86400

    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Beat and the scheduled jobs (docs/SCHEDULES.md).
    beat_loop_interval_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    beat_lock_timeout_s: Annotated[float, Field(gt=0)] = 20.0
    reports_dir: Path = Path("var/reports")
    # Comma-separated addresses; empty: the daily report is not e-mailed.
    report_recipients: Annotated[list[str], NoDecode] = []
    report_retention_days: Annotated[int, Field(ge=1)] = 30
    stats_retention_days: Annotated[int, Field(ge=1)] = 90

    # `user:password`, several separated by commas. Without it Flower starts only
    # when it listens on 127.0.0.1 (project/flower_config.py).
    flower_basic_auth: SecretStr | None = None
    # Flower's endpoints that run, revoke or abort tasks and control workers answer
    # 403: a Flower login must not be the power to run any task name.
    flower_read_only: bool = True
    # Flower's saved state: a shelve database of several files, hence a folder.
    flower_data_dir: str = "var/flower"
    # After SIGQUIT (or SIGTERM with REMAP_SIGTERM=SIGQUIT, as in docker/worker.sh)
    # running tasks get this long to finish before they are put back on the queue.
    worker_soft_shutdown_timeout_s: Annotated[float, Field(ge=0, le=3600)] = 30.0

    @field_validator("smtp_host")
    @classmethod
    def _host_not_url(cls, value: str) -> str:
        if not value or "/" in value or " " in value:
            raise ValueError(
                "expected a host name or IP address such as smtp.example.com"
            )
        return value

    @field_validator("flower_basic_auth", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # `FLOWER_BASIC_AUTH=` in a file or compose means "no credentials".
        return None if value == "" else value

    @field_validator("flower_basic_auth")
    @classmethod
    def _user_colon_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        for entry in value.get_secret_value().split(","):
            user, colon, password = entry.partition(":")
            if not (user.strip() and colon and password):
                raise ValueError("expected user:password, several separated by commas")
        return value

    @model_validator(mode="after")
    def _no_placeholder_flower_password(self) -> Settings:
        if self.app_env == "development" or self.flower_basic_auth is None:
            return self
        entries = self.flower_basic_auth.get_secret_value().split(",")
        if any(is_placeholder(entry.partition(":")[2]) for entry in entries):
            raise ValueError(
                "FLOWER_BASIC_AUTH still holds a placeholder password; set a real"
                " one, e.g. admin:$(openssl rand -hex 16)"
            )
        return self

    @field_validator("report_recipients", mode="before")
    @classmethod
    def _recipients(cls, value: Any) -> list[str]:
        items = value.split(",") if isinstance(value, str) else list(value or [])
        try:
            return [normalize_address(str(item)) for item in items if str(item).strip()]
        except ValueError as exc:
            raise ValueError(
                f"expected e-mail addresses separated by commas: {exc}"
            ) from None

    @model_validator(mode="after")
    def _beat_timing(self) -> Settings:
        from project.scheduling.timing import beat_timing_problem

        problem = beat_timing_problem(
            self.beat_loop_interval_s, self.beat_lock_timeout_s
        )
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        if self.app_env == "development" or self.smtp_password is None:
            return self
        if is_placeholder(self.smtp_password.get_secret_value()):
            raise ValueError(
                "SMTP_PASSWORD still holds a placeholder; set a real secret, or unset"
                " SMTP_PASSWORD when the SMTP server needs no login"
            )
        return self

    @model_validator(mode="after")
    def _visibility_timeout_fits(self) -> Settings:
        timeout = self.visibility_timeout_s
        if timeout < MIN_VISIBILITY_TIMEOUT_S and self.app_env != "test":
            raise ValueError(
                f"VISIBILITY_TIMEOUT_S is {timeout} s; expected at least"
                f" {MIN_VISIBILITY_TIMEOUT_S} s (shorter ones are for APP_ENV=test):"
                " a task still running when it passes is delivered a second time"
            )
        if self.idempotency_ttl_s <= timeout:
            raise ValueError(
                f"IDEMPOTENCY_TTL_S ({self.idempotency_ttl_s} s) must exceed"
                f" VISIBILITY_TIMEOUT_S ({timeout} s), or a redelivered task could"
                " send its e-mail again"
            )
        return self

    @property
    def effective_broker_url(self) -> str:
        """`BROKER_URL` when set, else the Redis at `REDIS_URL`."""
        return self.broker_url or self.redis_url

    @property
    def broker_is_redis(self) -> bool:
        return urlsplit(self.effective_broker_url).scheme in BACKEND_SCHEMES


def describe_errors(exc: ValidationError) -> str:
    """One line per invalid variable: name, what was expected, how to fix it."""
    lines = ["invalid configuration:"]
    for error in exc.errors(include_url=False, include_input=False):
        variable = ".".join(str(part) for part in error["loc"]).upper()
        message = _plain_message(error)
        if variable:
            lines.append(
                f"  {variable}: {message.rstrip('.')}. Set {variable} in the"
                " environment or in .env."
            )
        else:
            lines.append(f"  {message}.")
    return "\n".join(lines)


def _plain_message(error: Any) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def load_settings(**overrides: Any) -> Settings:
    """Read and check the settings; raise ConfigurationError naming each bad one."""
    try:
        problems = env_file_problems(ENV_FILE, Settings.model_fields)
        if problems:
            raise ConfigurationError(
                "invalid configuration:\n" + "\n".join(f"  {p}" for p in problems)
            )
        return Settings(**overrides)
    except UnicodeDecodeError:
        raise ConfigurationError(
            "invalid configuration: .env is not UTF-8 text; save it as UTF-8"
        ) from None
    except ValidationError as exc:
        raise ConfigurationError(describe_errors(exc)) from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()
