#!/usr/bin/env bash
# One Celery worker. WORKER_QUEUES, WORKER_POOL and WORKER_CONCURRENCY choose its
# profile: the e-mail worker waits on SMTP (threads, many), the others compute
# (processes, one per core). Extra arguments go to `celery worker`.
set -o errexit -o nounset -o pipefail

queues="${WORKER_QUEUES:-default,reports,maintenance}"
pool="${WORKER_POOL:-prefork}"
concurrency="${WORKER_CONCURRENCY:-$(nproc)}"
name="${WORKER_NAME:-celery}"

# SIGTERM (docker stop) becomes a cold shutdown with a soft phase: running tasks
# get WORKER_SOFT_SHUTDOWN_TIMEOUT_S to finish, the rest go back on the queue
# (late acks) before the stop grace period ends in SIGKILL.
export REMAP_SIGTERM=SIGQUIT

exec celery -A project worker \
    --queues "$queues" \
    --pool "$pool" \
    --concurrency "$concurrency" \
    --hostname "$name@%h" \
    --loglevel "${LOG_LEVEL:-INFO}" \
    "$@"
