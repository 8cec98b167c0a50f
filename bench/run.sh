#!/usr/bin/env bash
# Measures what Portico adds to a direct call, in one run, as ratios (issue 14's bench). The fast
# mock upstream (bench/mock_upstream.cpp) writes each answer in one socket write, a 20-event SSE
# stream or a plain chat.completion, in OpenAI's format or (for /v1/messages) Anthropic's. The
# gateway (one worker thread) and nginx (the reference, a plain proxy_pass) each run alone on
# core 0; wrk, the probe and the mock share core 1. The request is the issue's: a system and a
# user message, temperature, max_tokens, with Portkey's headers (provider openai, custom host).
#   1. Main table: direct, via nginx, via Portico, plain and stream, 1/32/256 connections,
#      medians of 3 interleaved rounds: req/s, p50/p99, CPU us per request (/proc/<pid>/stat)
#      of nginx and Portico and their ratio, and the error count (non-2xx + socket errors).
#   2. Translated path: OpenAI chat in, Anthropic upstream (x-portkey-provider: anthropic)
#      against the OpenAI passthrough, 32 connections, medians of 3 interleaved rounds.
#   3. First-event latency, one stream at a time (bench/first_event_probe.cpp), direct, nginx,
#      Portico, medians of 3 rounds of PROBE_REQUESTS streams each.
#   4. A virtual key against header auth; observability's cost (metrics off / on / traced);
#      a virtual key's RPM limit counted in the process against in Redis (--redis).
#   5. Memory over time: a fresh gateway under 256 connections (128 plain + 128 streamed) for
#      SOAK_SECONDS, VmRSS sampled at a third, two thirds and the end, and its VmHWM.
#   6. One connection with wrk, mock and gateway all on core 0 (no cross-core wake-ups).
# Ends with the peak RSS and a "Targets (issue 14)" table. Writes bench/results.md (or the file
# in PORTICO_BENCH_RESULTS, relative to the repository's root).
# Usage: bash bench/run.sh   from any directory. Takes about 12 minutes with the defaults:
#   DURATION=5 (seconds per wrk run), SOAK_SECONDS=180 (0 skips the soak), PROBE_REQUESTS=2000,
#   ROUNDS=3 (interleaved rounds for the medians). Quick check: DURATION=1 SOAK_SECONDS=15
#   PROBE_REQUESTS=300 (about 2 minutes).
#   PORTICO_BENCH_BUILD_DIR (default build/bench); PORTICO_BENCH_NO_BUILD=1 measures the
#   binaries already there (an older build, to compare). PORT_BASE (default 18100): the first
#   of the loopback ports used (up to PORT_BASE + 300).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PORTICO_BENCH_BUILD_DIR:-build/bench}
if [ -z "${PORTICO_BENCH_NO_BUILD:-}" ]; then
  bash .ci/setup --bench
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPORTICO_BUILD_TESTS=OFF \
    -DPORTICO_BUILD_BENCH=ON > /dev/null
  cmake --build "$build" --target portico portico_mock_upstream portico_first_event_probe \
    -j"$(nproc)" > /dev/null
fi

duration=${DURATION:-5}
soak_seconds=${SOAK_SECONDS:-180}
probe_requests=${PROBE_REQUESTS:-2000}
probe_warmup=$(( probe_requests / 10 > 50 ? probe_requests / 10 : 50 ))
rounds=${ROUNDS:-3}
stream_events=20
results=${PORTICO_BENCH_RESULTS:-bench/results.md}

# Issue 14's targets, checked in the table at the end.
target_translated_ratio=1.5   # translated / passthrough CPU per request, at most
target_rss_growth_kib=2048    # VmRSS change from the soak's second to its third sample, at most
target_peak_rss_kib=32768     # VmHWM with up to 256 connections, at most
# At 32 connections, as ratios to nginx in the same run: req/s at least, CPU per request at most.
target_plain_rps_ratio=0.6
target_plain_cpu_ratio=2
target_stream_rps_ratio=0.5
target_stream_cpu_ratio=2.5
target_first_event_extra_us=100  # added first-event latency (p50) over nginx's, at most

# Every process started here and every temp dir, ended and removed on exit.
pids=()
dirs=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "${dirs[@]}"
}
# forget PID...: children already ended and reaped (their ids may be reused: never kill them).
forget() {
  local p q keep=()
  for p in "${pids[@]}"; do
    for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
    keep+=("$p")
  done
  pids=("${keep[@]}")
}
# stop PID...: end these children now.
stop() {
  local pid
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
  forget "$@"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Loopback ports: PORT_BASE (default 18100) for the mock, +100.. for gateways, +200 Redis,
# +300 nginx. Refuses to start when something already answers on one of them.
port_base=${PORT_BASE:-18100}
mock_port=$port_base
gw_port=$((port_base + 100))
obs_off_port=$((port_base + 101))
obs_traced_port=$((port_base + 102))
obs_on_port=$((port_base + 103))
lim_local_port=$((port_base + 104))
lim_redis_port=$((port_base + 105))
soak_port=$((port_base + 106))
redis_port=$((port_base + 200))
nginx_port=$((port_base + 300))
for port in $mock_port $gw_port $obs_off_port $obs_traced_port $obs_on_port $lim_local_port \
  $lim_redis_port $soak_port $redis_port $nginx_port; do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
    echo "bench: 127.0.0.1:$port is in use (another bench?); set PORT_BASE" >&2
    exit 1
  fi
done
data_dir=$(mktemp -d /tmp/portico-bench.XXXXXX)
dirs+=("$data_dir")
PORTICO_MASTER_KEY=$(openssl rand -base64 32)
export PORTICO_MASTER_KEY
# A virtual key for the same upstream, to measure what resolving one costs per request.
virtual_key=$(printf '%s' sk-bench | "$build/portico" keys create --name bench --provider openai \
  --api-key-stdin --custom-host "http://127.0.0.1:$mock_port/v1" --data-dir "$data_dir" | tail -n 1)
taskset -c 1 "$build/bench/portico_mock_upstream" $mock_port $stream_events > /dev/null &
mock_pid=$!
pids+=("$mock_pid")
# start_gateway PORT [FLAG...]: a gateway with one worker thread on core 0; its pid in $started.
start_gateway() {
  local port=$1
  shift
  taskset -c 0 "$build/portico" --port "$port" --threads 1 --no-access-log --log-level warn \
    --data-dir "$data_dir" "$@" &
  started=$!
  pids+=("$started")
}
wait_ready() {
  local _
  for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "bench: nothing answers on $1" >&2
  return 1
}
start_gateway $gw_port
gw_pid=$started
# nginx (Debian's nginx-light) as the reference: a plain proxy_pass to the same mock, one worker
# process on core 0 (the gateway's slot, never at the same time), keep-alive to the upstream
# and to clients (no request limit per connection), no buffering, no access log.
nginx_dir=$(mktemp -d /tmp/portico-bench-nginx.XXXXXX)
dirs+=("$nginx_dir")
cat > "$nginx_dir/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $nginx_dir/nginx.pid;
error_log $nginx_dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $nginx_dir/body;
  proxy_temp_path $nginx_dir/proxy;
  fastcgi_temp_path $nginx_dir/fastcgi;
  uwsgi_temp_path $nginx_dir/uwsgi;
  scgi_temp_path $nginx_dir/scgi;
  keepalive_requests 1000000;  # the default (1000) closes connections mid-run
  upstream mock { server 127.0.0.1:$mock_port; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$nginx_port reuseport;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
NGINX
taskset -c 0 nginx -c "$nginx_dir/nginx.conf" -e "$nginx_dir/error.log" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_ready "http://127.0.0.1:$mock_port/"
wait_ready "http://127.0.0.1:$gw_port/"
wait_ready "http://127.0.0.1:$nginx_port/v1/models"

# progress MESSAGE: to stderr, after checking that the mock upstream still runs.
progress() {
  if ! kill -0 "$mock_pid" 2> /dev/null; then
    echo "bench: the mock upstream (pid $mock_pid) is gone: stopped" >&2
    exit 1
  fi
  echo "bench: $*" >&2
}
ticks=$(getconf CLK_TCK)
# us_per_request TICKS REQUESTS: CPU microseconds per request from clock ticks.
us_per_request() {
  awk -v t="$1" -v hz="$ticks" -v n="$2" 'BEGIN { printf "%.1f", n ? t * 1000000 / hz / n : 0 }'
}
# proc_ticks PID...: user + system clock ticks of these processes together.
proc_ticks() {
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$total"
}
ticks_of() { proc_ticks "$1"; }
# nginx's master and its worker.
nginx_pids() { echo "$nginx_pid $(pgrep -P "$nginx_pid" | xargs)"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }
# med "V1 V2 V3 ": the median of a space-separated list.
med() { printf '%s\n' $1 | median; }
# ratio A B [DECIMALS]: A / B.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%.*f", d, b ? a / b : 0 }'; }
rss_of() { awk -v f="$2" '$1 == f ":" {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# The issue's request: a system and a user message, temperature, max_tokens.
messages='"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello!"}],"temperature":0.7,"max_tokens":256'
plain_body="{\"model\":\"gpt-4o-mini\",$messages}"
stream_body="{\"model\":\"gpt-4o-mini\",\"stream\":true,$messages}"
# The same client request for Claude, translated by the anthropic provider (/v1/messages).
claude_plain_body=${plain_body/gpt-4o-mini/claude-3-5-haiku-latest}
claude_stream_body=${stream_body/gpt-4o-mini/claude-3-5-haiku-latest}
custom_host="x-portkey-custom-host: http://127.0.0.1:$mock_port/v1"
gw_headers="Authorization: Bearer sk-bench|x-portkey-provider: openai|x-portkey-api-key: sk-bench|$custom_host"
anthropic_headers="Authorization: Bearer sk-bench|x-portkey-provider: anthropic|x-portkey-api-key: sk-bench|$custom_host"
direct_headers=$gw_headers  # the mock ignores Portkey's headers: the same bytes on every path

# Every path answers 200 with an OpenAI chat answer before anything is measured.
curl_headers() {  # HEADERS ("a: b|c: d") -> curl -H arguments in the array $curl_args
  local h
  curl_args=()
  IFS='|' read -ra h <<< "$1"
  for h in "${h[@]}"; do curl_args+=(-H "$h"); done
}
check_path() {  # URL BODY HEADERS
  local answer
  curl_headers "$3"
  answer=$(curl -s -w '\n%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
    "${curl_args[@]}" -d "$2" "$1" || true)
  if [ "${answer##*$'\n'}" != 200 ] || ! grep -q '"chat\.completion' <<< "$answer" ||
    grep -q '"error"' <<< "$answer"; then
    echo "bench: $1 answered this to $2:" >&2
    echo "$answer" >&2
    return 1
  fi
}
for body in "$plain_body" "$stream_body"; do
  check_path "http://127.0.0.1:$mock_port/v1/chat/completions" "$body" "$direct_headers"
  check_path "http://127.0.0.1:$nginx_port/v1/chat/completions" "$body" "$direct_headers"
  check_path "http://127.0.0.1:$gw_port/v1/chat/completions" "$body" "$gw_headers"
done
check_path "http://127.0.0.1:$gw_port/v1/chat/completions" "$claude_plain_body" "$anthropic_headers"
check_path "http://127.0.0.1:$gw_port/v1/chat/completions" "$claude_stream_body" "$anthropic_headers"

# parse_wrk < wrk output -> "rps p50_us p99_us requests errors"; errors are wrk's
# "Non-2xx or 3xx responses" plus its socket errors (connect, read, write, timeout).
parse_wrk() {
  awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /m$/) return v * 60000000; if (v ~ /s$/) return v * 1000000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    /requests in/ { n = $1 }
    /Non-2xx or 3xx responses:/ { err += $NF }
    /Socket errors:/ { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) err += $i + 0 }
    END { printf "%.0f %.0f %.0f %d %d\n", rps, p50, p99, n, err }'
}
# run URL BODY HEADERS CONNS -> "rps p50_us p99_us requests errors"
run() {
  BENCH_BODY="$2" BENCH_HEADERS="$3" taskset -c 1 wrk -t1 -c"$4" -d"${duration}s" \
    --latency -s bench/post.lua "$1" | parse_wrk
}
# bench "PID..." URL BODY HEADERS CONNS -> "rps p50_us p99_us requests errors cpu_us_per_request"
# (the CPU of the processes named, per request; 0 when none are).
bench() {
  local before after out n
  before=$(proc_ticks $1)
  out=$(run "$2" "$3" "$4" "$5")
  after=$(proc_ticks $1)
  read -r _ _ _ n _ <<< "$out"
  echo "$out $(us_per_request $((after - before)) "$n")"
}

{
  echo "# Benchmark results"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), Linux $(uname -r); ${duration} s per wrk run, medians of $rounds interleaved rounds."
  echo "Gateway: 1 worker thread pinned to core 0. wrk (1 thread), the first-event probe and the mock upstream share core 1."
  echo "nginx: nginx-light $(nginx -v 2>&1 | sed 's|.*/||'), a plain proxy_pass with upstream keep-alive, 1 worker process pinned to core 0 (run alone, like the gateway)."
  echo "Mock upstream: each answer in one socket write; streams of $stream_events events plus \`data: [DONE]\`."
  echo "Request: \`$plain_body\` (stream: with \`\"stream\":true\`), headers \`${gw_headers//|/, }\`."
} > "$results"

# 1. Main table.
declare -A M E
for round in $(seq "$rounds"); do
  progress "main table, round $round of $rounds"
  for kind in plain stream; do
    body=$plain_body
    [ "$kind" = stream ] && body=$stream_body
    for conns in 1 32 256; do
      for target in direct nginx portico; do
        case $target in
          direct) port=$mock_port procs="" ;;
          nginx) port=$nginx_port procs=$(nginx_pids) ;;
          portico) port=$gw_port procs=$gw_pid ;;
        esac
        read -r rps p50 p99 _ err cpu < <(bench "$procs" "http://127.0.0.1:$port/v1/chat/completions" \
          "$body" "$gw_headers" "$conns")
        key=$kind/$conns/$target
        M[$key/rps]+="$rps " M[$key/p50]+="$p50 " M[$key/p99]+="$p99 " M[$key/cpu]+="$cpu "
        E[$key]=$(( ${E[$key]:-0} + err ))
      done
    done
  done
done
{
  echo
  echo "## Direct, via nginx, via Portico"
  echo
  echo "Medians of $rounds interleaved runs; errors: the sum over the runs (non-2xx answers + socket errors)."
  echo
  echo "| body | conns | direct req/s | nginx req/s | Portico req/s | Portico / nginx | direct p50/p99 us | nginx p50/p99 us | Portico p50/p99 us | nginx CPU us/req | Portico CPU us/req | CPU Portico / nginx | errors direct/nginx/Portico |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for kind in plain stream; do
    for conns in 1 32 256; do
      declare -A v=()
      for target in direct nginx portico; do
        for m in rps p50 p99 cpu; do v[$target/$m]=$(med "${M[$kind/$conns/$target/$m]}"); done
      done
      echo "| $kind | $conns | ${v[direct/rps]} | ${v[nginx/rps]} | ${v[portico/rps]} | $(ratio "${v[portico/rps]}" "${v[nginx/rps]}") | ${v[direct/p50]}/${v[direct/p99]} | ${v[nginx/p50]}/${v[nginx/p99]} | ${v[portico/p50]}/${v[portico/p99]} | ${v[nginx/cpu]} | ${v[portico/cpu]} | $(ratio "${v[portico/cpu]}" "${v[nginx/cpu]}") | ${E[$kind/$conns/direct]}/${E[$kind/$conns/nginx]}/${E[$kind/$conns/portico]} |"
    done
  done
} >> "$results"
declare -A at32
for kind in plain stream; do
  at32[$kind/rps]=$(ratio "$(med "${M[$kind/32/portico/rps]}")" "$(med "${M[$kind/32/nginx/rps]}")")
  at32[$kind/cpu]=$(ratio "$(med "${M[$kind/32/portico/cpu]}")" "$(med "${M[$kind/32/nginx/cpu]}")")
done
main_errors=0
for key in "${!E[@]}"; do main_errors=$((main_errors + E[$key])); done

# 2. Translated path: the same gateway, OpenAI chat in, Anthropic Messages to the mock.
declare -A T TE
for round in $(seq "$rounds"); do
  progress "translated path, round $round of $rounds"
  for kind in plain stream; do
    for mode in passthrough translated; do
      if [ "$mode" = passthrough ]; then
        headers=$gw_headers body=$plain_body
        [ "$kind" = stream ] && body=$stream_body
      else
        headers=$anthropic_headers body=$claude_plain_body
        [ "$kind" = stream ] && body=$claude_stream_body
      fi
      read -r rps p50 p99 _ err cpu < <(bench "$gw_pid" "http://127.0.0.1:$gw_port/v1/chat/completions" \
        "$body" "$headers" 32)
      key=$kind/$mode
      T[$key/rps]+="$rps " T[$key/p50]+="$p50 " T[$key/cpu]+="$cpu "
      TE[$key]=$(( ${TE[$key]:-0} + err ))
    done
  done
done
declare -A translated_cpu_ratio
{
  echo
  echo "## Translated path (OpenAI chat in, Anthropic upstream) against the OpenAI passthrough"
  echo
  echo "The same gateway, 32 connections, medians of $rounds interleaved runs. Translated: \`x-portkey-provider: anthropic\`, the mock's /v1/messages (Anthropic Messages; streams: message_start, content_block_start, $stream_events content_block_delta, content_block_stop, message_delta, message_stop)."
  echo
  echo "| body | passthrough req/s | translated req/s | req/s translated / passthrough | passthrough p50 us | translated p50 us | passthrough CPU us/req | translated CPU us/req | CPU translated / passthrough | errors passthrough/translated |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for kind in plain stream; do
    p_rps=$(med "${T[$kind/passthrough/rps]}") t_rps=$(med "${T[$kind/translated/rps]}")
    p_cpu=$(med "${T[$kind/passthrough/cpu]}") t_cpu=$(med "${T[$kind/translated/cpu]}")
    translated_cpu_ratio[$kind]=$(ratio "$t_cpu" "$p_cpu")
    echo "| $kind | $p_rps | $t_rps | $(ratio "$t_rps" "$p_rps") | $(med "${T[$kind/passthrough/p50]}") | $(med "${T[$kind/translated/p50]}") | $p_cpu | $t_cpu | ${translated_cpu_ratio[$kind]} | ${TE[$kind/passthrough]}/${TE[$kind/translated]} |"
  done
} >> "$results"
rss_kib=$(rss_of "$gw_pid" VmHWM)

# 3. First-event latency, one stream at a time, on one keep-alive connection.
IFS='|' read -ra probe_headers <<< "$gw_headers"
declare -A F
for round in $(seq "$rounds"); do
  progress "first-event latency, round $round of $rounds"
  for target in direct nginx portico; do
    case $target in
      direct) port=$mock_port ;;
      nginx) port=$nginx_port ;;
      portico) port=$gw_port ;;
    esac
    read -r p50 p99 err _ < <(taskset -c 1 "$build/bench/portico_first_event_probe" "$port" \
      /v1/chat/completions "$probe_requests" "$probe_warmup" "$stream_body" "${probe_headers[@]}")
    F[$target/p50]+="$p50 " F[$target/p99]+="$p99 "
    F[$target/err]=$(( ${F[$target/err]:-0} + err ))
  done
done
declare -A first_added
{
  echo
  echo "## First-event latency, one stream at a time"
  echo
  echo "bench/first_event_probe on core 1, one keep-alive connection, $probe_requests streamed requests after $probe_warmup unmeasured ones: the time from writing the request to holding the body's first complete SSE event. Medians of $rounds rounds; errors (non-200, no event, a dropped connection): the sum over the rounds."
  echo
  echo "| path | p50 us | p99 us | added p50 us | added p99 us | errors |"
  echo "|---|---|---|---|---|---|"
  d50=$(med "${F[direct/p50]}") d99=$(med "${F[direct/p99]}")
  for target in direct nginx portico; do
    p50=$(med "${F[$target/p50]}") p99=$(med "${F[$target/p99]}")
    label=$target
    [ "$target" = nginx ] && label="via nginx"
    [ "$target" = portico ] && label="via Portico"
    first_added[$target]="$((p50 - d50)) $((p99 - d99))"
    if [ "$target" = direct ]; then
      echo "| $label | $p50 | $p99 | | | ${F[$target/err]} |"
    else
      echo "| $label | $p50 | $p99 | $((p50 - d50)) | $((p99 - d99)) | ${F[$target/err]} |"
    fi
  done
} >> "$results"

# 4a. Header auth against a virtual key, both through Portico, same upstream and body.
vk_headers="x-portkey-virtual-key: $virtual_key"
progress "virtual key"
{
  echo
  echo "## Virtual key against header auth"
  echo
  echo "Plain body, 32 connections, both through Portico:"
  echo
  echo "| auth | req/s | p50/p99 us | Portico CPU us/req |"
  echo "|---|---|---|---|"
} >> "$results"
for auth in header virtual-key; do
  headers=$gw_headers
  [ "$auth" = virtual-key ] && headers=$vk_headers
  read -r g_rps g_p50 g_p99 _ _ cpu_us < <(bench "$gw_pid" "http://127.0.0.1:$gw_port/v1/chat/completions" \
    "$plain_body" "$headers" 32)
  echo "| $auth | $g_rps | $g_p50/$g_p99 | $cpu_us |" >> "$results"
done

# 4b. What observability costs: the same gateway with metrics off, on (the default), and on with
# every request traced (OTLP to the mock, which answers any POST). A fresh process each on
# core 0 (not the one the runs above warmed), driven one at a time, interleaved rounds, medians.
start_gateway $obs_on_port
obs_on_pid=$started
start_gateway $obs_off_port --metrics off
obs_off_pid=$started
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$mock_port" OTEL_TRACES_SAMPLER=always_on \
  start_gateway $obs_traced_port
obs_traced_pid=$started
for port in $obs_off_port $obs_on_port $obs_traced_port; do wait_ready "http://127.0.0.1:$port/"; done
declare -A obs_rps obs_cpu
for round in $(seq "$rounds"); do
  progress "observability, round $round of $rounds"
  for mode in off on traced; do
    case $mode in
      off) port=$obs_off_port pid=$obs_off_pid ;;
      on) port=$obs_on_port pid=$obs_on_pid ;;
      traced) port=$obs_traced_port pid=$obs_traced_pid ;;
    esac
    read -r g_rps _ _ _ _ cpu < <(bench "$pid" "http://127.0.0.1:$port/v1/chat/completions" \
      "$plain_body" "$gw_headers" 32)
    obs_rps[$mode]+="$g_rps "
    obs_cpu[$mode]+="$cpu "
  done
done
{
  echo
  echo "## Observability cost"
  echo
  echo "Plain body, 32 connections, a fresh gateway each, medians of $rounds interleaved runs:"
  echo
  echo "| gateway | req/s | Portico CPU us/req |"
  echo "|---|---|---|"
  for mode in off on traced; do
    label=$mode
    [ "$mode" = off ] && label="metrics off"
    [ "$mode" = on ] && label="metrics on (default)"
    [ "$mode" = traced ] && label="metrics on, every request traced (OTLP)"
    echo "| $label | $(med "${obs_rps[$mode]}") | $(med "${obs_cpu[$mode]}") |"
  done
  spans=$(curl -s "http://127.0.0.1:$obs_traced_port/metrics" |
    awk '/^portico_trace_spans_(exported|dropped)_total/ { printf "%s=%s ", $1, $2 }')
  echo
  echo "Traced gateway's exporter after the runs: ${spans:-no span counters}"
} >> "$results"
stop "$obs_off_pid" "$obs_on_pid" "$obs_traced_pid"

# 4c. What a Redis-backed limit check costs: the same virtual key with an RPM limit (high enough
# never to refuse) counted in this process (no --redis) and in a redis-server on core 1 (--redis,
# one script per request to admit plus one sent to settle). Both gateways fresh, on core 0,
# interleaved rounds, medians; the Redis CPU per request comes from its /proc stat.
redis_dir=$(mktemp -d /tmp/portico-bench-redis.XXXXXX)
dirs+=("$redis_dir")
taskset -c 1 redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$redis_dir" --daemonize no --loglevel warning > /dev/null &
redis_pid=$!
pids+=("$redis_pid")
limited_key=$(printf '%s' sk-bench | "$build/portico" keys create --name bench-limited \
  --provider openai --api-key-stdin --custom-host "http://127.0.0.1:$mock_port/v1" --rpm 100000000 \
  --data-dir "$data_dir" | tail -n 1)
start_gateway $lim_local_port
lim_local_pid=$started
start_gateway $lim_redis_port --redis "redis://127.0.0.1:$redis_port"
lim_redis_pid=$started
for port in $lim_local_port $lim_redis_port; do wait_ready "http://127.0.0.1:$port/"; done
declare -A lim_rps lim_p50 lim_cpu
redis_ticks=0
redis_requests=0
for round in $(seq "$rounds"); do
  progress "Redis limit, round $round of $rounds"
  for mode in local redis; do
    port=$lim_local_port pid=$lim_local_pid
    [ "$mode" = redis ] && port=$lim_redis_port pid=$lim_redis_pid
    r_before=$(ticks_of "$redis_pid")
    read -r g_rps g_p50 _ g_n _ cpu < <(bench "$pid" "http://127.0.0.1:$port/v1/chat/completions" \
      "$plain_body" "x-portkey-virtual-key: $limited_key" 32)
    r_after=$(ticks_of "$redis_pid")
    if [ "$mode" = redis ]; then
      redis_ticks=$((redis_ticks + r_after - r_before))
      redis_requests=$((redis_requests + g_n))
    fi
    lim_rps[$mode]+="$g_rps "
    lim_p50[$mode]+="$g_p50 "
    lim_cpu[$mode]+="$cpu "
  done
done
{
  echo
  echo "## A virtual key's RPM limit: in the process against in Redis"
  echo
  echo "Plain body, 32 connections, medians of $rounds interleaved runs (--redis: redis-server on core 1, beside wrk and the mock):"
  echo
  echo "| limit counted | req/s | p50 us | Portico CPU us/req |"
  echo "|---|---|---|---|"
  for mode in local redis; do
    label="in the process"
    [ "$mode" = redis ] && label="in Redis"
    echo "| $label | $(med "${lim_rps[$mode]}") | $(med "${lim_p50[$mode]}") | $(med "${lim_cpu[$mode]}") |"
  done
  echo
  echo "Redis CPU per request with --redis: $(us_per_request "$redis_ticks" "$redis_requests") us."
} >> "$results"
stop "$lim_local_pid" "$lim_redis_pid" "$redis_pid"

# 5. Memory over time: a fresh gateway under 256 connections for SOAK_SECONDS, half of them
# plain and half streamed (two wrk processes on core 1), VmRSS sampled at a third, two thirds
# and the end of the load (fixed times during a timed load: no synchronisation needed).
soak_growth_kib=""
soak_hwm_kib=0
if [ "$soak_seconds" -gt 0 ]; then
  progress "soak, $soak_seconds s"
  start_gateway $soak_port
  soak_pid=$started
  wait_ready "http://127.0.0.1:$soak_port/"
  soak_dir=$(mktemp -d /tmp/portico-bench-soak.XXXXXX)
  dirs+=("$soak_dir")
  rss_start=$(rss_of "$soak_pid" VmRSS)
  # The load outlasts the last sample by 2 s.
  BENCH_BODY="$plain_body" BENCH_HEADERS="$gw_headers" taskset -c 1 wrk -t1 -c128 \
    -d"$((soak_seconds + 2))s" -s bench/post.lua "http://127.0.0.1:$soak_port/v1/chat/completions" \
    > "$soak_dir/plain.txt" &
  soak_plain_pid=$!
  pids+=("$soak_plain_pid")
  BENCH_BODY="$stream_body" BENCH_HEADERS="$gw_headers" taskset -c 1 wrk -t1 -c128 \
    -d"$((soak_seconds + 2))s" -s bench/post.lua "http://127.0.0.1:$soak_port/v1/chat/completions" \
    > "$soak_dir/stream.txt" &
  soak_stream_pid=$!
  pids+=("$soak_stream_pid")
  soak_start=$(date +%s.%N)
  soak_at=() soak_rss=()
  for k in 1 2 3; do
    at=$(awk -v s="$soak_seconds" -v k=$k 'BEGIN { printf "%.0f", s * k / 3 }')
    delay=$(awk -v start="$soak_start" -v at="$at" -v now="$(date +%s.%N)" \
      'BEGIN { d = start + at - now; printf "%.3f", (d > 0 ? d : 0) }')
    sleep "$delay"
    soak_at+=("$at")
    soak_rss+=("$(rss_of "$soak_pid" VmRSS)")
  done
  wait "$soak_plain_pid" "$soak_stream_pid"
  forget "$soak_plain_pid" "$soak_stream_pid"
  read -r sp_rps _ _ sp_n sp_err < <(parse_wrk < "$soak_dir/plain.txt")
  read -r ss_rps _ _ ss_n ss_err < <(parse_wrk < "$soak_dir/stream.txt")
  soak_hwm_kib=$(rss_of "$soak_pid" VmHWM)
  soak_growth_kib=$((soak_rss[2] - soak_rss[1]))
  stop "$soak_pid"
  {
    echo
    echo "## Memory over time"
    echo
    echo "A fresh gateway, 256 connections for $soak_seconds s: 128 plain ($sp_rps req/s, $sp_n requests) and 128 streamed ($ss_rps req/s, $ss_n requests), two wrk processes on core 1. Errors (non-2xx + socket errors): $((sp_err + ss_err))."
    # wrk's own words for what went wrong (connect, read, write, timeout), when anything did.
    for kind in plain stream; do
      { grep -hE "Socket errors|Non-2xx" "$soak_dir/$kind.txt" || true; } | sed "s/^ */$kind: /"
    done
    echo
    echo "| at | VmRSS MiB | VmRSS KiB |"
    echo "|---|---|---|"
    echo "| start (idle) | $(mib "$rss_start") | $rss_start |"
    for k in 0 1 2; do
      echo "| ${soak_at[$k]} s | $(mib "${soak_rss[$k]}") | ${soak_rss[$k]} |"
    done
    echo
    echo "Change from ${soak_at[1]} s to ${soak_at[2]} s: $soak_growth_kib KiB. Peak RSS (VmHWM) of this gateway: $(mib "$soak_hwm_kib") MiB ($soak_hwm_kib KiB)."
  } >> "$results"
  soak_errors=$((sp_err + ss_err))
fi

# 6. Latency at one connection with everything on one core: on this VM a wake-up across cores
# costs far more than the gateway's own work, which would otherwise dominate the c=1 rows above.
progress "one core"
taskset -p -c 0 $mock_pid > /dev/null
run_one_core() {
  BENCH_BODY="$2" BENCH_HEADERS="$3" taskset -c 0 wrk -t1 -c1 -d"${duration}s" --latency \
    -s bench/post.lua "$1" | parse_wrk
}
{
  echo
  echo "## One connection, all on one core"
  echo
  echo "wrk, mock and gateway all on core 0 (no cross-core wake-ups):"
  echo
  echo "| body | direct req/s | via Portico req/s | direct p50/p99 us | via Portico p50/p99 us | added p50 us |"
  echo "|---|---|---|---|---|---|"
} >> "$results"
for kind in plain stream; do
  body=$plain_body
  [ "$kind" = stream ] && body=$stream_body
  read -r d_rps d_p50 d_p99 _ < <(run_one_core "http://127.0.0.1:$mock_port/v1/chat/completions" "$body" "$direct_headers")
  read -r g_rps g_p50 g_p99 _ < <(run_one_core "http://127.0.0.1:$gw_port/v1/chat/completions" "$body" "$gw_headers")
  echo "| $kind | $d_rps | $g_rps | $d_p50/$d_p99 | $g_p50/$g_p99 | $((g_p50 - d_p50)) |" >> "$results"
done
taskset -p -c 1 $mock_pid > /dev/null

peak_kib=$(( rss_kib > soak_hwm_kib ? rss_kib : soak_hwm_kib ))
# verdict VALUE TARGET le|ge [UNIT]: met, or missed by how much.
verdict() {
  awk -v v="$1" -v t="$2" -v op="$3" -v u="${4:-}" 'BEGIN {
    if ((op == "le" && v <= t) || (op == "ge" && v >= t)) { print "met"; exit }
    d = op == "le" ? v - t : t - v
    printf (d >= 100 ? "missed by %.0f%s" : "missed by %.3g%s"), d, u
    if (t) printf " (%.0f%%)", 100 * d / t
    printf "\n" }'
}
{
  echo
  echo "## Peak RSS"
  echo
  echo "The main gateway (VmHWM) after the main table and the translated runs, up to 256 connections: $(mib "$rss_kib") MiB ($rss_kib KiB)."
  [ "$soak_seconds" -gt 0 ] && echo "The soak's gateway (VmHWM), 256 connections for $soak_seconds s: $(mib "$soak_hwm_kib") MiB ($soak_hwm_kib KiB)."
  echo
  echo "## Targets (issue 14)"
  echo
  echo "| figure | measured | target | verdict |"
  echo "|---|---|---|---|"
  for kind in plain stream; do
    echo "| translated / passthrough CPU per request, $kind, 32 connections | ${translated_cpu_ratio[$kind]}x | <= ${target_translated_ratio}x | $(verdict "${translated_cpu_ratio[$kind]}" "$target_translated_ratio" le x) |"
  done
  if [ "$soak_seconds" -gt 0 ]; then
    growth_abs=${soak_growth_kib#-}
    echo "| VmRSS change, ${soak_at[1]} s to ${soak_at[2]} s of the soak | $soak_growth_kib KiB | within $target_rss_growth_kib KiB | $(verdict "$growth_abs" "$target_rss_growth_kib" le " KiB") |"
    echo "| errors during the soak | $soak_errors | 0 | $(verdict "$soak_errors" 0 le) |"
  else
    echo "| VmRSS change over the soak | not measured (SOAK_SECONDS=0) | within $target_rss_growth_kib KiB | |"
  fi
  echo "| peak RSS (VmHWM) at 256 connections | $(mib "$peak_kib") MiB | <= $((target_peak_rss_kib / 1024)) MiB | $(verdict "$(mib "$peak_kib")" $((target_peak_rss_kib / 1024)) le " MiB") |"
  read -r a50 a99 <<< "${first_added[portico]}"
  read -r n50 n99 <<< "${first_added[nginx]}"
  echo "| added first-event latency via Portico, p50 (p99), one stream at a time | $a50 ($a99) us | <= nginx's $n50 us + $target_first_event_extra_us us | $(verdict "$a50" $((n50 + target_first_event_extra_us)) le " us") |"
  echo "| non-streamed req/s at 32 connections, Portico / nginx | ${at32[plain/rps]}x | >= ${target_plain_rps_ratio}x | $(verdict "${at32[plain/rps]}" "$target_plain_rps_ratio" ge x) |"
  echo "| CPU per non-streamed request at 32 connections, Portico / nginx | ${at32[plain/cpu]}x | <= ${target_plain_cpu_ratio}x | $(verdict "${at32[plain/cpu]}" "$target_plain_cpu_ratio" le x) |"
  echo "| streamed req/s at 32 connections, Portico / nginx | ${at32[stream/rps]}x | >= ${target_stream_rps_ratio}x | $(verdict "${at32[stream/rps]}" "$target_stream_rps_ratio" ge x) |"
  echo "| CPU per streamed request at 32 connections, Portico / nginx | ${at32[stream/cpu]}x | <= ${target_stream_cpu_ratio}x | $(verdict "${at32[stream/cpu]}" "$target_stream_cpu_ratio" le x) |"
  echo "| errors in the main table (all rows, all rounds) | $main_errors | 0 | $(verdict "$main_errors" 0 le) |"
} >> "$results"
cat "$results"
