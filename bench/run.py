"""`make bench`: every figure in one run against one Redis of the run's own.

Starts a Redis server and a slow SMTP server, points the project at them through
the environment (as a deployment would), measures, prints a table with ratios to
plain Celery and writes `bench/results/latest.json` and `latest.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.report import machine, markdown, profile_table
from bench.services import SlowSmtp, start_redis

RESULTS = Path(__file__).resolve().parent / "results"
# The e-mail worker's profile in docker-compose.yml (WORKER_POOL, WORKER_CONCURRENCY).
CONFIGURED_EMAIL_POOL = ("threads", 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="Smaller counts, for a try."
    )
    options = parser.parse_args()
    scale = 0.2 if options.quick else 1.0
    folder = Path(tempfile.mkdtemp(prefix="project-bench-"))
    redis_server = start_redis(folder / "redis")
    smtp = SlowSmtp(delay_s=0.05).start()
    env = {
        "REDIS_URL": redis_server.url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "LOG_LEVEL": "WARNING",
        "APP_ENV": "development",
    }
    os.environ.update(env)
    os.environ.pop("BROKER_URL", None)
    try:
        results = measure(redis_server.client(), env, folder, smtp, scale)
    finally:
        smtp.stop()
        redis_server.stop()
    publish(results)
    # Worker logs stay behind only when a run fails, for reading.
    shutil.rmtree(folder, ignore_errors=True)


def measure(
    client: Any, env: dict[str, str], folder: Path, smtp: Any, scale: float
) -> dict[str, Any]:
    # Imported here: the project reads REDIS_URL when first imported.
    from bench import consume, enqueue, profile

    def n(count: int) -> int:
        return max(50, int(count * scale))

    results: dict[str, Any] = {"machine": machine()}
    results["enqueue_per_s"] = enqueue.enqueue_rates(client, n(300), n(10000), rounds=7)
    results["typed_cost_us"] = profile.breakdown() | profile.plain_vs_typed_us()
    results["typed_delay_profile"] = profile.delay_profile()
    client.flushdb()
    results["throughput_per_s"] = consume.throughput(
        client, env, folder, n(600), rounds=3
    )
    results["worker_profile_us"] = profile.worker_profile(client, env, folder, n(500))
    results["worker_profile_steps"] = [label for label, _, _ in profile.WORKER_STEPS]
    results["latency_ms"] = consume.latency(client, env, folder, n(300))
    pool, threads = CONFIGURED_EMAIL_POOL
    results["io_configured_pool"] = f"typed, configured pool ({pool}, {threads})"
    results["io_emails_per_s"] = consume.io_queue(
        client, env, folder, smtp, n(300), CONFIGURED_EMAIL_POOL
    )
    return results


def publish(results: dict[str, Any]) -> None:
    table = markdown(results)
    print(table)
    print("\n" + profile_table(results))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(table + "\n\n" + profile_table(results) + "\n")
    print(f"\nwritten: {RESULTS / 'latest.json'}, {RESULTS / 'latest.md'}")


if __name__ == "__main__":
    main()
