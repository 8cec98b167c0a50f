#include "telemetry/console_page.hpp"

namespace portico::telemetry {
namespace {

// Up to the <style> element's content. The policy is in a <meta> tag because the console's
// handler answers with a body and a content type only; it must come before anything it covers.
// A fresh nonce per page, not 'unsafe-inline': markup that ever slipped into the DOM could not
// run a script or add a style. connect-src 'self' keeps the token from going anywhere else.
constexpr std::string_view kHeadStart = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-{{NONCE}}'; style-src 'nonce-{{NONCE}}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>Portico console</title>
<link rel="icon" href="data:,">
<style nonce="{{NONCE}}">)html";

// From the end of the style to the <script> element's content. Ids and data-* attributes are
// what the page test reads: each chart says how many points it drew (data-points).
constexpr std::string_view kBody = R"html(</style>
</head>
<body data-state="connecting" data-polls="0">
<header class="top">
  <div class="brand"><span class="mark"></span>Portico <span class="sub">console</span>
    <span class="sub version" id="version"></span></div>
  <div class="status"><span class="dot"></span><span id="status-text">Connecting…</span></div>
  <div class="meta">
    <span id="uptime"></span>
    <span id="updated">no data yet</span>
    <span>every <span id="interval">1.5</span> s</span>
    <button id="pause" type="button">Pause</button>
    <button id="forget" type="button" hidden>Forget token</button>
  </div>
</header>
<section id="auth" class="auth" hidden>
  <h2>Admin token</h2>
  <p>This gateway protects its console with the admin token. It is kept in this tab only
    (sessionStorage); a link may carry it as <code>#token=…</code>.</p>
  <form id="auth-form" autocomplete="off">
    <input id="token-input" type="password" autocomplete="off" placeholder="PORTICO_ADMIN_TOKEN" aria-label="Admin token">
    <button type="submit">Connect</button>
  </form>
  <p id="auth-message" class="message"></p>
</section>
<main id="dashboard">
  <p id="notice" class="notice"></p>
  <section class="tiles">
    <div class="tile"><div class="label">Requests</div><div class="value" id="tile-rate">–</div>
      <div class="detail" id="tile-rate-detail">per second</div></div>
    <div class="tile"><div class="label">Errors</div><div class="value" id="tile-errors">–</div>
      <div class="detail" id="tile-errors-detail">non-2xx share</div></div>
    <div class="tile"><div class="label">Latency p95</div><div class="value" id="tile-latency">–</div>
      <div class="detail" id="tile-latency-detail">p50 – · p99 –</div></div>
    <div class="tile"><div class="label">First token p95</div>
      <div class="value" id="tile-ttft">–</div>
      <div class="detail" id="tile-ttft-detail">p50 –</div></div>
    <div class="tile"><div class="label">In flight</div><div class="value" id="tile-inflight">–</div>
      <div class="detail" id="tile-inflight-detail">streams –</div></div>
    <div class="tile"><div class="label">Tokens</div><div class="value" id="tile-tokens">–</div>
      <div class="detail" id="tile-tokens-detail">since start</div></div>
    <div class="tile"><div class="label">Cost</div><div class="value" id="tile-cost">–</div>
      <div class="detail" id="tile-cost-detail">estimated, since start</div></div>
  </section>
  <section class="grid">
    <article class="card"><h2>Request rate <span class="unit">req/s</span></h2>
      <svg id="chart-rate" class="chart" data-points="0" role="img" aria-label="Request rate"></svg>
    </article>
    <article class="card"><h2>Error rate <span class="unit">% non-2xx</span></h2>
      <svg id="chart-errors" class="chart" data-points="0" role="img" aria-label="Error rate"></svg>
    </article>
    <article class="card"><h2>Latency <span class="unit">ms</span>
      <span class="legend"><span><i class="c1"></i>p50</span><span><i class="c2"></i>p95</span>
        <span><i class="c3"></i>p99</span></span></h2>
      <svg id="chart-latency" class="chart" data-points="0" role="img" aria-label="Latency"></svg>
    </article>
    <article class="card"><h2>Time to first token <span class="unit">ms</span>
      <span class="legend"><span><i class="c4"></i>p50</span><span><i class="c5"></i>p95</span>
      </span></h2>
      <svg id="chart-ttft" class="chart" data-points="0" role="img"
        aria-label="Time to first token"></svg>
    </article>
    <article class="card"><h2>Tokens <span class="unit">by provider · model</span>
      <span class="legend"><span><i class="c1"></i>input</span><span><i class="c2"></i>output</span>
      </span></h2>
      <svg id="chart-tokens" class="chart" data-points="0" role="img" aria-label="Tokens"></svg>
    </article>
    <article class="card"><h2>Estimated cost <span class="unit">USD by provider · model</span></h2>
      <svg id="chart-cost" class="chart" data-points="0" role="img" aria-label="Cost"></svg>
    </article>
  </section>
  <section class="card table-card">
    <h2>Recent requests <span class="count" id="recent-count"></span></h2>
    <div class="table-wrap">
      <table id="recent-table">
        <thead><tr>
          <th>Time</th><th>Method</th><th>Path</th><th>Provider</th><th>Model</th>
          <th>Status</th><th class="num">Total</th><th class="num">Upstream</th>
          <th class="num">TTFT</th><th class="num">In</th><th class="num">Out</th>
          <th class="num">Cost</th><th>Cache</th><th class="num">Retries</th><th>Key</th>
          <th>Trace id</th>
        </tr></thead>
        <tbody id="recent-rows" data-rows="0"></tbody>
      </table>
    </div>
  </section>
</main>
<script nonce="{{NONCE}}">)html";

constexpr std::string_view kEnd = R"html(</script>
</body>
</html>
)html";

// `text` with every {{NONCE}} replaced.
void appendWithNonce(std::string& out, std::string_view text, std::string_view nonce) {
  constexpr std::string_view kMark = "{{NONCE}}";
  while (true) {
    const auto at = text.find(kMark);
    out.append(text.substr(0, at));
    if (at == std::string_view::npos) return;
    out.append(nonce);
    text.remove_prefix(at + kMark.size());
  }
}

}  // namespace

std::string consolePage(std::string_view nonce) {
  std::string page;
  page.reserve(kHeadStart.size() + console_parts::kStyle.size() + kBody.size() +
               console_parts::kScript.size() + kEnd.size() + 4 * nonce.size());
  appendWithNonce(page, kHeadStart, nonce);
  page.append(console_parts::kStyle);
  appendWithNonce(page, kBody, nonce);
  page.append(console_parts::kScript);
  page.append(kEnd);
  return page;
}

}  // namespace portico::telemetry
