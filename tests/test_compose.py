"""docker-compose.yml, the Dockerfile and the start scripts, without a Docker engine.

The file is checked by Debian's docker-compose (`config`) and against the
compose specification's JSON schema that package ships; the start scripts run
here as they run in the containers, against the suite's Redis.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

from project.cli.health import health
from tests.support.ports import free_port, wait_for_port
from tests.support.workers import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")
APP_SERVICES = ("worker", "worker-email", "beat", "flower")
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def docker_compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("Debian's docker-compose is not installed: run `make browser`")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FLOWER_")}
    return subprocess.run(
        [binary, "--file", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_docker_compose_accepts_the_file() -> None:
    done = docker_compose("config", "--quiet", env={"FLOWER_BASIC_AUTH": "ops:pw-1"})

    assert done.returncode == 0, done.stderr


def test_missing_flower_credentials_fail_loudly() -> None:
    done = docker_compose("config", "--quiet", env={})

    assert done.returncode != 0
    assert "set FLOWER_BASIC_AUTH=user:password for Flower" in done.stderr


def test_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    if not COMPOSE_SCHEMA.exists():
        pytest.skip("the compose schema ships with Debian's docker-compose package")
    schema = json.loads(COMPOSE_SCHEMA.read_text())

    errors = list(jsonschema.Draft201909Validator(schema).iter_errors(compose))

    assert [error.message for error in errors] == []


def test_redis_keeps_its_data_and_never_evicts(compose: dict[str, Any]) -> None:
    redis = services(compose)["redis"]

    assert re.fullmatch(r"redis:7(\.\d+)*-alpine", redis["image"])
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert "redis-cli" in redis["healthcheck"]["test"]
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_app_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        depends = services(compose)[name]["depends_on"]
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert "healthcheck" in services(compose)[name], name


def test_email_worker_uses_threads_and_the_other_processes(
    compose: dict[str, Any],
) -> None:
    email = services(compose)["worker-email"]["environment"]
    other = services(compose)["worker"]["environment"]

    assert (email["WORKER_QUEUES"], email["WORKER_POOL"]) == ("email", "threads")
    assert int(email["WORKER_CONCURRENCY"]) >= 8
    assert other["WORKER_POOL"] == "prefork"
    assert set(other["WORKER_QUEUES"].split(",")) == {
        "default",
        "reports",
        "maintenance",
    }


def test_beat_restarts_after_losing_its_lock(compose: dict[str, Any]) -> None:
    assert services(compose)["beat"]["restart"] == "always"


def test_a_dev_smtp_server_with_a_web_ui(compose: dict[str, Any]) -> None:
    mailpit = services(compose)["mailpit"]
    assert any(port.endswith(":8025") for port in mailpit["ports"])
    for name in APP_SERVICES[:2]:
        assert services(compose)[name]["environment"]["SMTP_HOST"] == "mailpit"


def test_each_service_runs_a_strict_start_script(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        command = services(compose)[name]["command"]
        script = ROOT / command[0]
        assert script.parent == ROOT / "docker", name
        assert os.access(script, os.X_OK), script
        lines = [line for line in script.read_text().splitlines() if line.strip()]
        assert "set -o errexit -o nounset -o pipefail" in lines, script
        last_command = [line for line in lines if not line.startswith(" ")][-1]
        assert last_command.startswith("exec celery -A project "), script


def test_healthchecks_are_valid_project_health_commands(
    compose: dict[str, Any],
) -> None:
    for name in APP_SERVICES[:3]:
        test = services(compose)[name]["healthcheck"]["test"]
        words = shlex.split(test[1]) if test[0] == "CMD-SHELL" else test[1:]
        assert words[:2] == ["project", "health"], name
        args = [word.replace("$$HOSTNAME", "host") for word in words[2:]]
        # Parses and converts every option as the real command would.
        with health.make_context("health", args) as context:
            assert isinstance(context, click.Context)


def test_dockerfile_installs_the_lock_and_runs_as_a_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "pip install -r requirements.lock" in dockerfile
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    for copied in ("project", "flowerconfig.py", "docker"):
        assert re.search(rf"^COPY {copied} ", dockerfile, re.MULTILINE), copied


def script_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **extra}


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def start_script(
    started: list[subprocess.Popen[bytes]],
    tmp_path: Path,
    script: str,
    env: dict[str, str],
    *args: str,
) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / f"{script}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / "docker" / script), *args],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started.append(process)
    return process, log


def wait_for_text(log: Path, text: str, process: Any, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if text in content:
            return
        assert process.poll() is None, content[-3000:]
        time.sleep(0.2)
    raise TimeoutError(f"{text!r} not in {log}:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_worker_script_starts_a_worker_that_stops_on_sigterm(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    env = script_env(
        WORKER_QUEUES="email",
        WORKER_POOL="threads",
        WORKER_CONCURRENCY="2",
        WORKER_NAME=f"script-{os.getpid()}",
        WORKER_SOFT_SHUTDOWN_TIMEOUT_S="1",
    )
    process, log = start_script(started, tmp_path, "worker.sh", env)
    wait_for_text(log, " ready.", process)

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=60) == 0
    assert f"script-{os.getpid()}@" in log.read_text()


@pytest.mark.slow
def test_flower_script_refuses_to_start_without_credentials(tmp_path: Path) -> None:
    env = {k: v for k, v in script_env().items() if not k.startswith("FLOWER_")}
    done = subprocess.run(
        [str(ROOT / "docker" / "flower.sh")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 1
    assert "FLOWER_BASIC_AUTH is not set" in done.stderr


@pytest.mark.slow
def test_flower_script_serves_behind_basic_auth(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    env = script_env(
        FLOWER_BASIC_AUTH="ops:script-pw-1",
        FLOWER_PORT=str(port),
        FLOWER_ADDRESS="127.0.0.1",
        FLOWER_CONF=str(ROOT / "flowerconfig.py"),
    )
    process, log = start_script(started, tmp_path, "flower.sh", env)
    wait_for_port(port, timeout_s=60)
    from tests.support.flower import FlowerProcess

    probe = FlowerProcess(tmp_path, {})
    probe.port = port
    assert wait_status(probe, "/workers") == 401
    assert probe.get("/workers", "ops:script-pw-1")[0] == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert list((tmp_path / "var" / "flower").glob("flower*")), log.read_text()


def wait_status(probe: Any, path: str, timeout_s: float = 30) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = int(probe.get(path)[0])
        if status:
            return status
        time.sleep(0.2)
    return 0


@pytest.mark.slow
def test_beat_script_starts_beat(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    process, log = start_script(started, tmp_path, "beat.sh", script_env())
    wait_for_text(log, "beat: Starting", process)

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=60) == 0


def test_readme_lists_every_setting() -> None:
    from project.settings import Settings

    doc = (ROOT / "README.md").read_text()
    missing = [
        name.upper()
        for name in Settings.model_fields
        if f"| `{name.upper()}` |" not in doc
    ]

    assert missing == [], "add these to the configuration table in README.md"
