-- wrk script: POST the body in $BENCH_BODY with the headers in $BENCH_HEADERS ("a: b|c: d").
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
for pair in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
  local name, value = string.match(pair, "^%s*(.-):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
