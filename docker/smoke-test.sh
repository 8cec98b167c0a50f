#!/usr/bin/env bash
# Builds the Portico image and checks the container answers, on this machine with no registry:
# docker/lib.sh installs Debian's docker.io, starts dockerd with no bridge and no NAT (loopback
# only) and builds the debian:bookworm base image from the apt mirror with mmdebstrap; this
# builds docker/Dockerfile with --network host, runs it with --network host and curls it.
# Cleans up after itself (PORTICO_DOCKER_ROOT: see docker/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

. docker/lib.sh
port=${PORTICO_SMOKE_PORT:-18787}

cleanup() {
  if [ -n "$W" ]; then
    $DOCKER rm -f portico-smoke >/dev/null 2>&1 || true
    $DOCKER volume rm -f portico-smoke-data >/dev/null 2>&1 || true
  fi
  portico_docker_stop
}
trap cleanup EXIT
portico_docker_start

DOCKER_BUILDKIT=1 $DOCKER build --network host -f docker/Dockerfile -t portico:smoke .
master=$(openssl rand -base64 32)
$DOCKER volume create portico-smoke-data >/dev/null
$DOCKER run -d --name portico-smoke --network host -e PORTICO_PORT="$port" \
  -e PORTICO_MASTER_KEY="$master" -e PORTICO_ADMIN_TOKEN=smoke-admin \
  -v portico-smoke-data:/var/lib/portico portico:smoke >/dev/null

ok=0
for _ in $(seq 100); do
  if body=$(curl -sf "http://127.0.0.1:$port/"); then ok=1; break; fi
  sleep 0.1
done
if [ "$ok" -ne 1 ] || [ "$body" != "AI Gateway says hey!" ]; then
  echo "container did not answer on port $port" >&2
  $DOCKER logs portico-smoke >&2 || true
  exit 1
fi
code=$(curl -s -o "$W/err.json" -w '%{http_code}' "http://127.0.0.1:$port/v1/chat/completions" \
  -H 'content-type: application/json' -d '{"model":"m","messages":[]}')
[ "$code" = 400 ] && grep -q "x-portkey-provider header is required" "$W/err.json"
# Virtual keys on the volume: one made with the CLI inside the container resolves (its custom
# host is a closed loopback port, so the call itself ends in a 502, not the 400 of a missing
# provider), and the admin API lists it.
vk=$(printf '%s' sk-smoke | $DOCKER exec -i portico-smoke portico keys create --name smoke \
  --provider openai --api-key-stdin --custom-host http://127.0.0.1:9/v1 | tail -n 1)
[[ "$vk" == pk-* ]] || { echo "keys create printed no key" >&2; exit 1; }
for _ in $(seq 50); do
  code=$(curl -s -o "$W/vk.json" -w '%{http_code}' "http://127.0.0.1:$port/v1/chat/completions" \
    -H 'content-type: application/json' -H "x-portkey-virtual-key: $vk" \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}')
  [ "$code" = 401 ] || break
  sleep 0.1
done
[ "$code" = 502 ] || { echo "virtual key call answered $code: $(cat "$W/vk.json")" >&2; exit 1; }
curl -sf -H 'Authorization: Bearer smoke-admin' "http://127.0.0.1:$port/admin/v1/keys" |
  grep -q '"name":"smoke"' || { echo "admin API does not list the key" >&2; exit 1; }
if grep -rq sk-smoke <($DOCKER logs portico-smoke 2>&1); then
  echo "the provider key reached the container log" >&2; exit 1
fi
# Observability: ready, the scrape counts the key's request, and the health check passes.
curl -sf "http://127.0.0.1:$port/ready" | grep -q '"status":"ready"' ||
  { echo "/ready did not answer ready" >&2; exit 1; }
# A request is counted just after its answer's last byte left, maybe on the other worker thread
# than the one the scrape runs on: scrape until it is in, within a bound.
counted=0
for _ in $(seq 50); do
  if curl -sf "http://127.0.0.1:$port/metrics" |
    grep -q 'portico_requests_total{endpoint="chat_completions",provider="openai".*virtual_key="smoke"}'; then
    counted=1; break
  fi
  sleep 0.1
done
[ "$counted" = 1 ] || { echo "/metrics does not count the virtual key's request" >&2; exit 1; }
health=""
for _ in $(seq 60); do
  health=$($DOCKER inspect --format '{{.State.Health.Status}}' portico-smoke)
  [ "$health" = starting ] || break
  sleep 0.5
done
[ "$health" = healthy ] || { echo "HEALTHCHECK says $health" >&2; exit 1; }
user=$($DOCKER exec portico-smoke id -u)
[ "$user" != 0 ] || { echo "container runs as root" >&2; exit 1; }
# A graceful stop must be quick (SIGTERM handled by the gateway itself).
start=$(date +%s)
$DOCKER stop -t 10 portico-smoke >/dev/null
[ $(( $(date +%s) - start )) -lt 5 ] || { echo "docker stop took too long" >&2; exit 1; }
echo "docker smoke test: image built, container answered on 127.0.0.1:$port, virtual key" \
  "from its volume resolved, ready, counted in /metrics, healthy, non-root, stopped cleanly"
