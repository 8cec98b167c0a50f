#!/bin/bash
# Healthy when a replica answers GET /health through the load balancer (bash's /dev/tcp: the
# image has no HTTP client).
set -euo pipefail
exec 3<>"/dev/tcp/${LB_HOST:-127.0.0.1}/${LB_PORT:-8787}"
printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
grep -q '"status":"ok"' <&3
