#!/usr/bin/env bash
# Flower on every interface of the container, so only behind basic auth:
# flowerconfig.py refuses an open Flower anywhere but 127.0.0.1, and this
# script says so before Python starts.
set -o errexit -o nounset -o pipefail

if [ -z "${FLOWER_BASIC_AUTH:-}" ]; then
    echo "flower.sh: FLOWER_BASIC_AUTH is not set; set it to user:password" >&2
    exit 1
fi

exec celery -A project flower \
    --address="${FLOWER_ADDRESS:-0.0.0.0}" \
    --port="${FLOWER_PORT:-5555}" \
    "$@"
