#!/bin/bash
# Healthy when redis-server answers PING on REDIS_HOST:REDIS_PORT. REDISCLI_AUTH hands the
# password to redis-cli without a command-line argument.
set -euo pipefail
password=${REDIS_PASSWORD:-}
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then password=$(cat "$REDIS_PASSWORD_FILE"); fi
REDISCLI_AUTH=$password redis-cli -h "${REDIS_HOST:-127.0.0.1}" -p "${REDIS_PORT:-6379}" ping |
  grep -q PONG
