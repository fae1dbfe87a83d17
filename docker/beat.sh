#!/usr/bin/env bash
# Celery beat on RedBeat. Beat exits when it loses the RedBeat lock: run it under
# a restart policy. Several may run; one holds the lock, the others wait.
set -o errexit -o nounset -o pipefail

exec celery -A project beat --loglevel "${LOG_LEVEL:-INFO}" "$@"
