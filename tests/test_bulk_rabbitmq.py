"""`project send --from-file` on RabbitMQ: delay_many's path for brokers other than
Redis (Celery's own publish inside kombu's producer batch), run by a worker process.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support.smtp import SmtpSink
from tests.test_rabbitmq import make_vhost, project_cli, rabbitmqctl, run_worker

pytestmark = pytest.mark.slow


def test_a_jsonl_file_goes_through_rabbitmq(tmp_path: Path, smtp: SmtpSink) -> None:
    # Given a worker whose broker is RabbitMQ, and a file of five payloads
    vhost, url = make_vhost()
    env = {"BROKER_URL": url}
    tag = uuid.uuid4().hex[:8]
    addresses = [f"bulk-amqp-{tag}-{n}@example.com" for n in range(5)]
    path = tmp_path / "payloads.jsonl"
    path.write_text(
        "".join(
            f'{{"user_id": "u{n}", "email": "{address}", "template": "welcome"}}\n'
            for n, address in enumerate(addresses)
        )
    )
    try:
        worker = run_worker(tmp_path, env)
        try:
            # When the file is sent in bulk
            done = project_cli("send", "email.send", "--from-file", str(path), env=env)

            # Then every payload was enqueued once and every e-mail arrived
            assert done.returncode == 0, done.stderr
            assert len(done.stdout.split()) == 5
            for address in addresses:
                smtp.wait_for(address)
        finally:
            assert worker.stop() == 0
    finally:
        rabbitmqctl("delete_vhost", vhost)
