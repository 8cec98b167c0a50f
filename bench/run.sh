#!/usr/bin/env bash
# Measures what Portico adds to a direct call, in one run, as ratios: wrk drives the fast mock
# upstream directly, through nginx (a plain proxy_pass, the reference) and through the gateway,
# at 1, 32 and 256 connections, for plain and streamed (10-chunk SSE) chat completions. The gateway runs alone on core 0 with one worker
# thread; wrk and the mock share core 1. Also reports gateway CPU time per request (from
# /proc/<pid>/stat) and peak RSS (VmHWM). Writes bench/results.md.
# Also: a virtual key's RPM limit counted in the process and in Redis (--redis).
# Usage: bash bench/run.sh   (DURATION=seconds per run, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PORTICO_BENCH_BUILD_DIR:-build/bench}
# PORTICO_BENCH_NO_BUILD=1 measures the binaries already in $build (an older build, to compare).
if [ -z "${PORTICO_BENCH_NO_BUILD:-}" ]; then
  bash .ci/setup --bench
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPORTICO_BUILD_TESTS=OFF \
    -DPORTICO_BUILD_BENCH=ON > /dev/null
  cmake --build "$build" --target portico portico_mock_upstream -j"$(nproc)" > /dev/null
fi

duration=${DURATION:-5}
mock_port=18100
gw_port=18200
data_dir=$(mktemp -d /tmp/portico-bench.XXXXXX)
export PORTICO_MASTER_KEY=$(openssl rand -base64 32)
# A virtual key for the same upstream, to measure what resolving one costs per request.
virtual_key=$(printf '%s' sk-bench | "$build/portico" keys create --name bench --provider openai \
  --api-key-stdin --custom-host "http://127.0.0.1:$mock_port/v1" --data-dir "$data_dir" | tail -n 1)
taskset -c 1 "$build/bench/portico_mock_upstream" $mock_port 10 > /dev/null &
mock_pid=$!
taskset -c 0 "$build/portico" --port $gw_port --threads 1 --no-access-log --log-level warn \
  --data-dir "$data_dir" &
gw_pid=$!
# nginx (Debian's nginx-light) as the reference: a plain proxy_pass to the same mock, one worker
# process on core 0 (the gateway's slot, never at the same time), keep-alive to the upstream,
# no buffering, no access log.
nginx_port=18400
nginx_dir=$(mktemp -d /tmp/portico-bench-nginx.XXXXXX)
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
  upstream mock { server 127.0.0.1:$mock_port; keepalive 64; }
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
trap 'kill $mock_pid $gw_pid $nginx_pid 2>/dev/null || true; rm -rf "$data_dir" "$nginx_dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$gw_port/" > /dev/null && break; sleep 0.05; done
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$nginx_port/v1/models" && break
  sleep 0.05
done

ticks=$(getconf CLK_TCK)
# us_per_request TICKS REQUESTS: CPU microseconds per request from clock ticks.
us_per_request() {
  awk -v t="$1" -v hz="$ticks" -v n="$2" 'BEGIN { printf "%.1f", n ? t * 1000000 / hz / n : 0 }'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$gw_pid/stat"; }
# nginx's master and its worker together.
nginx_ticks() {
  local total=0 pid
  for pid in $nginx_pid $(pgrep -P "$nginx_pid"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

plain_body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'
stream_body='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'
direct_headers="Authorization: Bearer sk-bench"
gw_headers="x-portkey-provider: openai|x-portkey-api-key: sk-bench|x-portkey-custom-host: http://127.0.0.1:$mock_port/v1"

# run URL BODY HEADERS CONNS -> "rps p50_us p99_us requests"
run() {
  local out
  out=$(BENCH_BODY="$2" BENCH_HEADERS="$3" taskset -c 1 wrk -t1 -c"$4" -d"${duration}s" \
    --latency -s bench/post.lua "$1")
  echo "$out" | awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1000000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    /requests in/ { n = $1 }
    END { printf "%.0f %.0f %.0f %d\n", rps, p50, p99, n }'
}

results=${PORTICO_BENCH_RESULTS:-bench/results.md}
{
  echo "# Benchmark results"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), ${duration} s per run."
  echo "Gateway: 1 worker thread pinned to core 0. wrk (1 thread) and the mock upstream share core 1."
  echo
  echo "nginx: nginx-light $(nginx -v 2>&1 | sed 's|.*/||'), a plain proxy_pass with upstream keep-alive, 1 worker process pinned to core 0 (run alone, like the gateway)."
  echo
  echo "| body | conns | direct req/s | via nginx req/s | via Portico req/s | Portico / direct | Portico / nginx | nginx p50/p99 us | Portico p50/p99 us | nginx CPU us/req | Portico CPU us/req |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} > "$results"

for kind in plain stream; do
  body=$plain_body
  [ "$kind" = stream ] && body=$stream_body
  for conns in 1 32 256; do
    read -r d_rps d_p50 d_p99 _ < <(run "http://127.0.0.1:$mock_port/v1/chat/completions" "$body" "$direct_headers" "$conns")
    before=$(nginx_ticks)
    read -r n_rps n_p50 n_p99 n_n < <(run "http://127.0.0.1:$nginx_port/v1/chat/completions" "$body" "$direct_headers" "$conns")
    after=$(nginx_ticks)
    n_cpu_us=$(us_per_request $((after - before)) "$n_n")
    before=$(cpu_ticks)
    read -r g_rps g_p50 g_p99 g_n < <(run "http://127.0.0.1:$gw_port/v1/chat/completions" "$body" "$gw_headers" "$conns")
    after=$(cpu_ticks)
    cpu_us=$(us_per_request $((after - before)) "$g_n")
    ratio=$(awk -v a="$g_rps" -v b="$d_rps" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    n_ratio=$(awk -v a="$g_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    echo "| $kind | $conns | $d_rps | $n_rps | $g_rps | $ratio | $n_ratio | $n_p50/$n_p99 | $g_p50/$g_p99 | $n_cpu_us | $cpu_us |" >> "$results"
  done
done

rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$gw_pid/status")

# Header auth against a virtual key, both through Portico, same upstream and body.
vk_headers="x-portkey-virtual-key: $virtual_key"
{
  echo
  echo "Virtual key against header auth, plain body, 32 connections, both through Portico:"
  echo
  echo "| auth | req/s | p50/p99 us | Portico CPU us/req |"
  echo "|---|---|---|---|"
} >> "$results"
for auth in header virtual-key; do
  headers=$gw_headers
  [ "$auth" = virtual-key ] && headers=$vk_headers
  before=$(cpu_ticks)
  read -r g_rps g_p50 g_p99 g_n < <(run "http://127.0.0.1:$gw_port/v1/chat/completions" "$plain_body" "$headers" 32)
  after=$(cpu_ticks)
  cpu_us=$(us_per_request $((after - before)) "$g_n")
  echo "| $auth | $g_rps | $g_p50/$g_p99 | $cpu_us |" >> "$results"
done

# What observability costs: the same gateway with metrics off, on (the default), and on with
# every request traced (OTLP to the mock, which answers any POST). A fresh process each on
# core 0 (not the one the runs above warmed), driven one at a time, three interleaved rounds,
# medians.
obs_off_port=18201
obs_traced_port=18202
obs_on_port=18203
taskset -c 0 "$build/portico" --port $obs_on_port --threads 1 --no-access-log --log-level warn \
  --data-dir "$data_dir" &
obs_on_pid=$!
taskset -c 0 "$build/portico" --port $obs_off_port --threads 1 --no-access-log --log-level warn \
  --data-dir "$data_dir" --metrics off &
obs_off_pid=$!
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$mock_port" OTEL_TRACES_SAMPLER=always_on \
  taskset -c 0 "$build/portico" --port $obs_traced_port --threads 1 --no-access-log \
  --log-level warn --data-dir "$data_dir" &
obs_traced_pid=$!
trap 'kill $mock_pid $gw_pid $nginx_pid $obs_off_pid $obs_on_pid $obs_traced_pid 2>/dev/null || true; rm -rf "$data_dir" "$nginx_dir"' EXIT
for port in $obs_off_port $obs_on_port $obs_traced_port; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" > /dev/null && break; sleep 0.05; done
done
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A obs_rps obs_cpu
for round in 1 2 3; do
  for mode in off on traced; do
    case $mode in
      off) port=$obs_off_port pid=$obs_off_pid ;;
      on) port=$obs_on_port pid=$obs_on_pid ;;
      traced) port=$obs_traced_port pid=$obs_traced_pid ;;
    esac
    before=$(ticks_of "$pid")
    read -r g_rps _ _ g_n < <(run "http://127.0.0.1:$port/v1/chat/completions" "$plain_body" "$gw_headers" 32)
    after=$(ticks_of "$pid")
    obs_rps[$mode]+="$g_rps "
    obs_cpu[$mode]+="$(us_per_request $((after - before)) "$g_n") "
  done
done
{
  echo
  echo "Observability cost, plain body, 32 connections, medians of 3 interleaved runs:"
  echo
  echo "| gateway | req/s | Portico CPU us/req |"
  echo "|---|---|---|"
  for mode in off on traced; do
    label=$mode
    [ "$mode" = off ] && label="metrics off"
    [ "$mode" = on ] && label="metrics on (default)"
    [ "$mode" = traced ] && label="metrics on, every request traced (OTLP)"
    echo "| $label | $(tr ' ' '\n' <<< "${obs_rps[$mode]}" | grep . | median) | $(tr ' ' '\n' <<< "${obs_cpu[$mode]}" | grep . | median) |"
  done
  spans=$(curl -s "http://127.0.0.1:$obs_traced_port/metrics" |
    awk '/^portico_trace_spans_(exported|dropped)_total/ { printf "%s=%s ", $1, $2 }')
  echo
  echo "Traced gateway's exporter after the runs: ${spans:-no span counters}"
} >> "$results"

# What a Redis-backed limit check costs: the same virtual key with an RPM limit (high enough never
# to refuse) counted in this process (no --redis) and in a redis-server on core 1 (--redis, one
# script per request to admit plus one sent to settle). Both gateways fresh, on core 0, three
# interleaved rounds, medians; the Redis CPU per request comes from its /proc stat.
redis_port=18300
lim_local_port=18204
lim_redis_port=18205
redis_dir=$(mktemp -d /tmp/portico-bench-redis.XXXXXX)
taskset -c 1 redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$redis_dir" --daemonize no --loglevel warning > /dev/null &
redis_pid=$!
limited_key=$(printf '%s' sk-bench | "$build/portico" keys create --name bench-limited \
  --provider openai --api-key-stdin --custom-host "http://127.0.0.1:$mock_port/v1" --rpm 100000000 \
  --data-dir "$data_dir" | tail -n 1)
taskset -c 0 "$build/portico" --port $lim_local_port --threads 1 --no-access-log --log-level warn \
  --data-dir "$data_dir" &
lim_local_pid=$!
taskset -c 0 "$build/portico" --port $lim_redis_port --threads 1 --no-access-log --log-level warn \
  --data-dir "$data_dir" --redis "redis://127.0.0.1:$redis_port" &
lim_redis_pid=$!
trap 'kill $mock_pid $gw_pid $nginx_pid $obs_off_pid $obs_on_pid $obs_traced_pid $redis_pid $lim_local_pid $lim_redis_pid 2>/dev/null || true; rm -rf "$data_dir" "$redis_dir" "$nginx_dir"' EXIT
for port in $lim_local_port $lim_redis_port; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" > /dev/null && break; sleep 0.05; done
done
declare -A lim_rps lim_p50 lim_cpu
redis_ticks=0
redis_requests=0
for round in 1 2 3; do
  for mode in local redis; do
    port=$lim_local_port pid=$lim_local_pid
    [ "$mode" = redis ] && port=$lim_redis_port pid=$lim_redis_pid
    before=$(ticks_of "$pid")
    r_before=$(ticks_of "$redis_pid")
    read -r g_rps g_p50 _ g_n < <(run "http://127.0.0.1:$port/v1/chat/completions" "$plain_body" "x-portkey-virtual-key: $limited_key" 32)
    after=$(ticks_of "$pid")
    r_after=$(ticks_of "$redis_pid")
    if [ "$mode" = redis ]; then
      redis_ticks=$((redis_ticks + r_after - r_before))
      redis_requests=$((redis_requests + g_n))
    fi
    lim_rps[$mode]+="$g_rps "
    lim_p50[$mode]+="$g_p50 "
    lim_cpu[$mode]+="$(us_per_request $((after - before)) "$g_n") "
  done
done
{
  echo
  echo "A virtual key's RPM limit counted in the process against in Redis (--redis), plain body, 32 connections, medians of 3 interleaved runs:"
  echo
  echo "| limit counted | req/s | p50 us | Portico CPU us/req |"
  echo "|---|---|---|---|"
  for mode in local redis; do
    label="in the process"
    [ "$mode" = redis ] && label="in Redis"
    echo "| $label | $(tr ' ' '\n' <<< "${lim_rps[$mode]}" | grep . | median) | $(tr ' ' '\n' <<< "${lim_p50[$mode]}" | grep . | median) | $(tr ' ' '\n' <<< "${lim_cpu[$mode]}" | grep . | median) |"
  done
  echo
  echo "Redis CPU per request with --redis: $(us_per_request "$redis_ticks" "$redis_requests") us (redis-server on core 1, beside wrk and the mock)."
} >> "$results"
kill $lim_local_pid $lim_redis_pid $redis_pid 2>/dev/null || true

# Latency at one connection with everything on one core: on this VM a wake-up across cores costs
# far more than the gateway's own work, which would otherwise dominate the c=1 rows above.
taskset -p -c 0 $mock_pid > /dev/null
run_one_core() {
  BENCH_BODY="$2" BENCH_HEADERS="$3" taskset -c 0 wrk -t1 -c1 -d"${duration}s" --latency \
    -s bench/post.lua "$1" | awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; return v * 1000000 }
    /Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = us($2) } /^ +99%/ { p99 = us($2) }
    END { printf "%.0f %.0f %.0f\n", rps, p50, p99 }'
}
{
  echo
  echo "One connection, wrk, mock and gateway all on core 0 (no cross-core wake-ups):"
  echo
  echo "| body | direct req/s | via Portico req/s | direct p50/p99 us | via Portico p50/p99 us | added p50 us |"
  echo "|---|---|---|---|---|---|"
} >> "$results"
for kind in plain stream; do
  body=$plain_body
  [ "$kind" = stream ] && body=$stream_body
  read -r d_rps d_p50 d_p99 < <(run_one_core "http://127.0.0.1:$mock_port/v1/chat/completions" "$body" "$direct_headers")
  read -r g_rps g_p50 g_p99 < <(run_one_core "http://127.0.0.1:$gw_port/v1/chat/completions" "$body" "$gw_headers")
  echo "| $kind | $d_rps | $g_rps | $d_p50/$d_p99 | $g_p50/$g_p99 | $((g_p50 - d_p50)) |" >> "$results"
done
{
  echo
  echo "Peak RSS of the gateway (VmHWM) after all runs, up to 256 connections: $((rss_kib / 1024)) MiB ($rss_kib KiB)."
} >> "$results"
cat "$results"
