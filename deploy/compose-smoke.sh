#!/usr/bin/env bash
# Brings up deploy/compose.yaml for real on this machine (two Portico replicas, nginx, Redis,
# PostgreSQL; no registry, host networking only) and serves README-style requests through the
# load balancer:
#   - nginx answers GET /health once every service is healthy;
#   - a virtual key made through replica A's admin API works on replica B within a second
#     (shared PostgreSQL store), and disabling it through B stops it on A within a second;
#   - chat completions through nginx (virtual key, header auth, config auth, a stream) reach a
#     fake OpenAI-compatible upstream on the host and are answered by BOTH replicas (their
#     /metrics), x-portkey-* headers pass both ways, SSE chunks are not buffered;
#   - an RPM limit holds across the replicas and a cached answer from one is a HIT on the
#     other (shared Redis);
#   - replica A stopped with SIGTERM finishes the stream it is serving and exits 0 within a
#     few seconds, and nginx keeps serving from B;
#   - no provider key reaches a container log.
# Then tears everything down (containers, volumes, dockerd, temp files). Needs root.
#
# docker/lib.sh starts the engine (PORTICO_DOCKER_ROOT shares its images with
# docker/smoke-test.sh). Ports: 127.0.0.1:PORT_BASE..PORT_BASE+4 for nginx, replica A,
# replica B, PostgreSQL and Redis (PORTICO_DEPLOY_SMOKE_PORT_BASE, default 18790), so a
# gateway, Redis or PostgreSQL already on the default ports is not in the way.
# PORTICO_DEPLOY_SMOKE_IMAGE=NAME runs that already-built Portico image instead of building
# docker/Dockerfile. PORTICO_DEPLOY_SMOKE_SHARED=0 skips the checks that need the shared store
# and Redis (for a gateway built before --store/--redis); CI runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

. docker/lib.sh
base=${PORTICO_DEPLOY_SMOKE_PORT_BASE:-18790}
lb=$base a=$((base + 1)) b=$((base + 2)) pg=$((base + 3)) rd=$((base + 4))
shared=${PORTICO_DEPLOY_SMOKE_SHARED:-1}
project=portico-deploy-smoke
fake_pid=""

fail() { echo "compose smoke test: $* (after $(( $(date +%s) - started )) s)" >&2; exit 1; }
# Debian's docker-compose with Debian's docker client (BuildKit); see docker/lib.sh.
compose() {
  PATH=/usr/bin:$PATH DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1 \
    docker-compose --ansi never -p "$project" -f deploy/compose.yaml --env-file "$W/smoke.env" "$@"
}
cleanup() {
  local rc=$?
  if [ -n "$W" ] && [ -f "$W/smoke.env" ]; then
    if [ "$rc" -ne 0 ]; then
      compose ps >&2 || true
      compose logs --no-color --tail=40 >&2 || true
    fi
    compose down -v --remove-orphans -t 10 >/dev/null 2>&1 || true
  fi
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  portico_docker_stop
}
trap cleanup EXIT
trap 'echo "compose smoke test: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

for port in "$lb" "$a" "$b" "$pg" "$rd"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "127.0.0.1:$port is taken (set PORTICO_DEPLOY_SMOKE_PORT_BASE)"
  fi
done
command -v python3 >/dev/null || fail "python3 is needed for the fake upstream"

portico_docker_start docker-compose openssl

# Fresh secrets for this run only (never committed), and the smoke test's ports.
admin=$(openssl rand -hex 16)
cat > "$W/smoke.env" <<EOF
PORTICO_MASTER_KEY=$(openssl rand -base64 32)
PORTICO_ADMIN_TOKEN=$admin
POSTGRES_PASSWORD=$(openssl rand -hex 16)
REDIS_PASSWORD=$(openssl rand -hex 16)
LB_PORT=$lb
PORTICO_A_PORT=$a
PORTICO_B_PORT=$b
POSTGRES_PORT=$pg
REDIS_PORT=$rd
PORTICO_IMAGE=portico:deploy-smoke
PORTICO_AUTH=open
PORTICO_TRUSTED_CUSTOM_HOSTS=127.0.0.1,localhost
PORTICO_SHUTDOWN_GRACE_MS=5000
EOF
chmod 600 "$W/smoke.env"

compose config -q
t=$(date +%s)
if [ -n "${PORTICO_DEPLOY_SMOKE_IMAGE:-}" ]; then
  $DOCKER tag "$PORTICO_DEPLOY_SMOKE_IMAGE" portico:deploy-smoke
  compose build --parallel nginx postgres redis >"$W/build.log" 2>&1 ||
    { tail -n 60 "$W/build.log" >&2; fail "build failed"; }
else
  # portico-b runs the image portico-a builds (the same image name), so Portico compiles once
  # and both replicas run the same binary.
  compose build --parallel portico-a nginx postgres redis >"$W/build.log" 2>&1 ||
    { tail -n 60 "$W/build.log" >&2; fail "build failed"; }
fi
build_s=$(( $(date +%s) - t ))
t=$(date +%s)
# up waits for each dependency's health check (depends_on: condition: service_healthy).
compose up -d --no-build >"$W/up.log" 2>&1 || { cat "$W/up.log" >&2; fail "up failed"; }
ok=0
for _ in $(seq 100); do
  if curl -sf "http://127.0.0.1:$lb/health" -o "$W/health.json" &&
     grep -q '"status":"ok"' "$W/health.json"; then ok=1; break; fi
  sleep 0.2
done
[ "$ok" = 1 ] || fail "no GET /health through nginx on 127.0.0.1:$lb"
for svc in postgres redis portico-a portico-b nginx; do
  id=$(compose ps -q "$svc")
  health=""
  for _ in $(seq 40); do
    health=$($DOCKER inspect --format '{{.State.Health.Status}}' "$id")
    [ "$health" = starting ] || break
    sleep 0.5
  done
  [ "$health" = healthy ] || fail "$svc is $health"
done
up_s=$(( $(date +%s) - t ))

# The fake upstream on the host's loopback (the replicas share the host's network).
python3 tests/deploy/fake_openai.py "$W/fake.port" 900 &
fake_pid=$!
for _ in $(seq 50); do [ -s "$W/fake.port" ] && break; sleep 0.1; done
[ -s "$W/fake.port" ] || fail "the fake upstream did not start"
fake=$(cat "$W/fake.port")
upstream="http://127.0.0.1:$fake/v1"
served() { curl -sf "http://127.0.0.1:$fake/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["chat"])'; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# chat PORT OUT [curl args...]: a README-style chat completion; prints the status.
chat() {
  local port=$1 out=$2
  shift 2
  curl -s -o "$out" -D "$out.headers" -w '%{http_code}' "http://127.0.0.1:$port/v1/chat/completions" \
    -H "Content-Type: application/json" "$@" \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'
}
expect_reply() {  # expect_reply STATUS FILE WHAT
  [ "$1" = 200 ] && grep -q "Hello from the fake upstream!" "$2" ||
    fail "$3 answered $1: $(head -c 300 "$2")"
}
# admin PORT METHOD PATH [BODY]: the admin API of one replica.
admin() {
  curl -sf -X "$2" "http://127.0.0.1:$1/admin/v1/keys$3" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' ${4:+-d "$4"}
}
# until_status PORT KEY STATUS: ms until the key's call on that replica answers STATUS (at
# most about 2 s), or -1.
until_status() {
  local start code
  start=$(now_ms)
  for _ in $(seq 100); do
    code=$(chat "$1" "$W/poll.json" -H "x-portkey-virtual-key: $2")
    if [ "$code" = "$3" ]; then echo $(( $(now_ms) - start )); return; fi
    [ $(( $(now_ms) - start )) -lt 2000 ] || break
    sleep 0.02
  done
  echo -1
}

# 1. Keys through the shared store.
created=$(admin "$a" POST "" "{\"name\":\"smoke\",\"provider\":\"openai\",\"api_key\":\"sk-fake-upstream\",\"custom_host\":\"$upstream\"}") ||
  fail "POST /admin/v1/keys on replica A failed"
vk=$(printf '%s' "$created" | json_field key)
[[ "$vk" == pk-* ]] || fail "the admin API gave no key: $created"
propagate_ms=n/a disable_ms=n/a
if [ "$shared" = 1 ]; then
  propagate_ms=$(until_status "$b" "$vk" 200)
  [ "$propagate_ms" -ge 0 ] && [ "$propagate_ms" -le 1000 ] ||
    fail "the key made on replica A did not work on replica B within a second ($propagate_ms ms; last: $(head -c 300 "$W/poll.json"))"
fi
code=$(chat "$a" "$W/a.json" -H "x-portkey-virtual-key: $vk")
expect_reply "$code" "$W/a.json" "replica A with its own key"
auth=(-H "x-portkey-virtual-key: $vk")
if [ "$shared" != 1 ]; then  # each replica has its own keys: use header auth through nginx
  auth=(-H "x-portkey-provider: openai" -H "x-portkey-api-key: sk-fake-upstream" -H "x-portkey-custom-host: $upstream")
fi

# Chat completions each replica counted in its own /metrics. A request is counted just after its
# answer's last byte left, maybe on another worker thread than the scrape's, and is in flight
# until then: scrape until nothing is in flight (within a bound), then count.
count_on() {
  local text _
  for _ in $(seq 50); do
    text=$(curl -sf "http://127.0.0.1:$1/metrics")
    printf '%s\n' "$text" | awk '/^portico_requests_in_flight[{ ]/ { n += $NF } END { exit n > 0 }' && break
    sleep 0.1
  done
  printf '%s\n' "$text" |
    awk '/^portico_requests_total\{/ && /endpoint="chat_completions"/ { n += $NF } END { print n + 0 }'
}
a0=$(count_on "$a")
b0=$(count_on "$b")

# 2. README-style requests through nginx, spread over both replicas by round robin.
sent=0
for i in 1 2 3 4 5 6; do
  code=$(chat "$lb" "$W/lb.json" "${auth[@]}" -H "x-portkey-trace-id: smoke-$i")
  expect_reply "$code" "$W/lb.json" "the virtual key through nginx"
  grep -qi '^x-portkey-trace-id: smoke-'"$i" "$W/lb.json.headers" ||
    fail "x-portkey-trace-id did not come back through nginx"
  grep -qi '^x-portkey-provider: openai' "$W/lb.json.headers" ||
    fail "x-portkey-provider is missing from the answer through nginx"
  sent=$((sent + 1))
done
code=$(chat "$lb" "$W/hdr.json" -H "x-portkey-provider: openai" -H "x-portkey-api-key: sk-fake-upstream" \
  -H "x-portkey-custom-host: $upstream")
expect_reply "$code" "$W/hdr.json" "header auth through nginx"
code=$(chat "$lb" "$W/cfg.json" \
  -H "x-portkey-config: {\"provider\":\"openai\",\"api_key\":\"sk-fake-upstream\",\"custom_host\":\"$upstream\"}")
expect_reply "$code" "$W/cfg.json" "config auth through nginx"
sent=$((sent + 2))

# A stream through nginx: every chunk is relayed as it comes (the fake spaces its words by
# 20 ms), the usage chunk and [DONE] arrive.
curl -sN "http://127.0.0.1:$lb/v1/chat/completions" -H "Content-Type: application/json" "${auth[@]}" \
  -d '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}' |
  while IFS= read -r line; do
    if [ -n "$line" ]; then printf '%s %s\n' "$(now_ms)" "$line"; fi
  done > "$W/stream.txt"
grep -q '"content": *"Hello ' "$W/stream.txt" && grep -q '"usage"' "$W/stream.txt" &&
  tail -n 1 "$W/stream.txt" | grep -q 'data: \[DONE\]' || fail "the stream through nginx: $(head -c 500 "$W/stream.txt")"
first=$(grep -m1 '"content": *"Hello ' "$W/stream.txt" | cut -d' ' -f1)
last=$(tail -n 1 "$W/stream.txt" | cut -d' ' -f1)
[ $((last - first)) -ge 50 ] || fail "the stream came in one piece ($((last - first)) ms): nginx buffers it"
sent=$((sent + 1))

# Both replicas answered, and between them every request.
on_a=$(( $(count_on "$a") - a0 ))
on_b=$(( $(count_on "$b") - b0 ))
[ "$on_a" -gt 0 ] && [ "$on_b" -gt 0 ] || fail "not both replicas answered (A counted $on_a, B $on_b)"
[ $((on_a + on_b)) -eq "$sent" ] || fail "the replicas counted $((on_a + on_b)) of the $sent requests sent through nginx"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$lb/metrics")" = 404 ] ||
  fail "nginx should not serve one replica's /metrics"

# 3. Shared Redis: an RPM limit over both replicas, and the response cache.
if [ "$shared" = 1 ]; then
  # Fixed one-minute windows: start well inside one.
  s=$(( $(date +%s) % 60 ))
  if [ "$s" -ge 52 ]; then sleep $((61 - s)); fi
  limited=$(admin "$b" POST "" "{\"name\":\"smoke-rpm\",\"provider\":\"openai\",\"api_key\":\"sk-fake-upstream\",\"custom_host\":\"$upstream\",\"rpm\":4}" | json_field key) ||
    fail "POST /admin/v1/keys on replica B failed"
  [ "$(until_status "$a" "$limited" 200)" -ge 0 ] || fail "the rpm key did not reach replica A"
  for i in 2 3 4; do  # until_status spent the first of the minute's four requests
    code=$(chat "$lb" "$W/rpm.json" -H "x-portkey-virtual-key: $limited")
    expect_reply "$code" "$W/rpm.json" "request $i of 4 under rpm 4"
  done
  code=$(chat "$lb" "$W/rpm.json" -H "x-portkey-virtual-key: $limited")
  [ "$code" = 429 ] || fail "the 5th request under rpm 4 over two replicas answered $code (counters not shared?)"

  cache='x-portkey-config: {"cache":{"mode":"simple"}}'
  code=$(chat "$a" "$W/c1.json" -H "x-portkey-virtual-key: $vk" -H "$cache")
  expect_reply "$code" "$W/c1.json" "the cached request on A"
  hit=""
  for _ in $(seq 20); do  # the entry may be written just after A answers
    before=$(served)
    code=$(chat "$b" "$W/c2.json" -H "x-portkey-virtual-key: $vk" -H "$cache")
    hit=$(grep -i '^x-portkey-cache-status:' "$W/c2.json.headers" | tr -d '\r' | awk '{print toupper($2)}')
    [ "$hit" = HIT ] && break
    sleep 0.05
  done
  [ "$hit" = HIT ] || fail "replica B did not answer A's cached request from the cache (${hit:-no status})"
  expect_reply "$code" "$W/c2.json" "the cache hit on B"
  [ "$(served)" = "$before" ] || fail "the cache hit on B still called the upstream"
fi

# 4. Key changes the other way: disabled through B, refused on A within a second.
if [ "$shared" = 1 ]; then
  admin "$b" PATCH /smoke '{"enabled":false}' >/dev/null || fail "PATCH on replica B failed"
  start=$(now_ms)
  code=200
  for _ in $(seq 100); do
    code=$(chat "$a" "$W/dis.json" -H "x-portkey-virtual-key: $vk")
    [ "$code" = 200 ] || break
    [ $(( $(now_ms) - start )) -lt 2000 ] || break
    sleep 0.02
  done
  disable_ms=$(( $(now_ms) - start ))
  [ "$code" != 200 ] && [ "$disable_ms" -le 1000 ] ||
    fail "the key disabled on B still worked on A after $disable_ms ms"
  admin "$b" PATCH /smoke '{"enabled":true}' >/dev/null || fail "PATCH on replica B failed"
  [ "$(until_status "$a" "$vk" 200)" -ge 0 ] || fail "the key enabled again on B did not work on A"
fi

# 5. Replica A stops gracefully (SIGTERM) while it streams an answer: the stream ends with
# [DONE], A exits 0, and nginx serves everything from B meanwhile.
curl -sN --max-time 20 "http://127.0.0.1:$a/v1/chat/completions" -H "Content-Type: application/json" \
  -H "x-portkey-virtual-key: $vk" \
  -d '{"model":"slow-stream","stream":true,"messages":[{"role":"user","content":"Hi"}]}' > "$W/drain.txt" &
drain_pid=$!
for _ in $(seq 50); do grep -q '"content"' "$W/drain.txt" 2>/dev/null && break; sleep 0.05; done
t=$(date +%s)
compose stop -t 20 portico-a >/dev/null 2>&1
stop_s=$(( $(date +%s) - t ))
wait "$drain_pid" || true
exit_code=$($DOCKER inspect --format '{{.State.ExitCode}}' "$(compose ps -q portico-a)")
[ "$exit_code" = 0 ] || fail "replica A exited with $exit_code after SIGTERM (${stop_s} s): no graceful stop"
[ "$stop_s" -lt 10 ] || fail "stopping replica A took ${stop_s} s"
grep -q 'data: \[DONE\]' "$W/drain.txt" || fail "the stream in flight on replica A was cut by its stop: $(tail -c 300 "$W/drain.txt")"
b_before=$(count_on "$b")
for i in 1 2 3 4; do
  code=$(chat "$lb" "$W/fo.json" "${auth[@]}")
  expect_reply "$code" "$W/fo.json" "request $i through nginx with replica A down"
done
[ $(( $(count_on "$b") - b_before )) -eq 4 ] || fail "replica B did not serve the requests while A was down"

# 6. No provider key in any log.
compose logs --no-color > "$W/all.log" 2>&1
if grep -q sk-fake-upstream "$W/all.log"; then fail "the provider key reached a container log"; fi

echo "compose smoke test: 5 services healthy (build ${build_s} s, up ${up_s} s), nginx on" \
  "127.0.0.1:$lb spread $((on_a + on_b)) requests over both replicas (A $on_a, B $on_b), key from A" \
  "worked on B after ${propagate_ms} ms (disabled on B, refused on A after ${disable_ms} ms), shared rpm" \
  "and cache $( [ "$shared" = 1 ] && echo held || echo skipped), streams unbuffered, A drained its stream and" \
  "stopped in ${stop_s} s with B serving, no key in logs; $(( $(date +%s) - started )) s in all"
