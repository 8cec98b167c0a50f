#!/bin/bash
# Starts redis-server on REDIS_HOST:REDIS_PORT (127.0.0.1:6379). The password (REDIS_PASSWORD,
# or the file named by REDIS_PASSWORD_FILE) goes in through standard input, so it is in no
# command line. No persistence: Portico keeps keys and usage in its store; what Redis holds
# (rate windows, in-flight budget reservations, cached answers) is short-lived: see
# docs/scale-out.md.
# Extra arguments are passed on to redis-server (e.g. --maxmemory 256mb).
set -euo pipefail
password=${REDIS_PASSWORD:-}
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then password=$(cat "$REDIS_PASSWORD_FILE"); fi
exec redis-server - "$@" < <(
  echo "bind ${REDIS_HOST:-127.0.0.1}"
  echo "port ${REDIS_PORT:-6379}"
  echo "save \"\""
  echo "appendonly no"
  echo "dir /tmp"
  if [ -n "$password" ]; then echo "requirepass $password"; fi
)
