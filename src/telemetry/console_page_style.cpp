// The console page's stylesheet: neutral dark theme, light when the system asks for it.
#include "telemetry/console_page.hpp"

namespace portico::telemetry::console_parts {

const std::string_view kStyle = R"css(
:root {
  --bg: #0e1014; --panel: #161920; --panel-2: #1c2029; --border: #262b36;
  --text: #e4e7ee; --muted: #8a93a6; --faint: #2a303c;
  --accent: #5b93ff; --violet: #a37cf7; --orange: #f0883e; --teal: #2bb3a3;
  --amber: #d7a33a; --green: #3fb968; --red: #f2555a;
  --mono: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  color-scheme: dark;
}
@media (prefers-color-scheme: light) {
  :root {
    --bg: #f5f6f8; --panel: #ffffff; --panel-2: #f8f9fb; --border: #e2e5ea;
    --text: #1b2130; --muted: #5d6779; --faint: #eceef2;
    --accent: #2f6fe4; --violet: #7c4dde; --orange: #d96b1c; --teal: #158f82;
    --amber: #b17c12; --green: #1f8f46; --red: #d33a3f;
    color-scheme: light;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body {
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "DejaVu Sans", sans-serif;
  -webkit-font-smoothing: antialiased;
}
header.top {
  display: flex; align-items: center; gap: 18px; padding: 12px 24px;
  border-bottom: 1px solid var(--border); background: var(--panel);
  position: sticky; top: 0; z-index: 2;
}
.brand { font-weight: 650; font-size: 16px; letter-spacing: .2px; display: flex; gap: 8px;
  align-items: center; }
.brand .mark { width: 18px; height: 18px; border-radius: 5px;
  background: linear-gradient(135deg, var(--accent), var(--violet)); }
.brand .sub { color: var(--muted); font-weight: 500; }
.brand .version { font-size: 12px; font-weight: 400; }
.status { display: flex; align-items: center; gap: 8px; color: var(--muted); }
.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
body[data-state="live"] .dot { background: var(--green); box-shadow: 0 0 0 3px rgba(63,185,104,.18); }
body[data-state="error"] .dot, body[data-state="auth"] .dot { background: var(--red); }
body[data-state="auth"] #pause { display: none; }
.meta { margin-left: auto; color: var(--muted); display: flex; align-items: center; gap: 12px; }
button {
  font: inherit; color: var(--text); background: var(--panel-2); border: 1px solid var(--border);
  border-radius: 6px; padding: 4px 10px; cursor: pointer;
}
button:hover { border-color: var(--accent); }
main { padding: 18px 24px 32px; max-width: 1600px; margin: 0 auto; }
.auth { max-width: 520px; margin: 48px auto; padding: 22px; background: var(--panel);
  border: 1px solid var(--border); border-radius: 10px; }
.auth h2 { margin: 0 0 6px; font-size: 16px; }
.auth p { margin: 0 0 14px; color: var(--muted); }
.auth form { display: flex; gap: 8px; }
.auth input { flex: 1; font: inherit; color: var(--text); background: var(--bg);
  border: 1px solid var(--border); border-radius: 6px; padding: 6px 10px; }
.auth .message { color: var(--red); margin: 10px 0 0; min-height: 1em; }
.notice { color: var(--amber); margin: 0 0 12px; }
.notice:empty { display: none; }
.tiles { display: grid; grid-template-columns: repeat(7, minmax(0, 1fr)); gap: 12px;
  margin-bottom: 14px; }
.tile { background: var(--panel); border: 1px solid var(--border); border-radius: 10px;
  padding: 12px 12px; min-width: 0; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .6px; }
.tile .value { font-size: 22px; font-weight: 620; margin-top: 2px; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; font-variant-numeric: tabular-nums; }
.tile .detail { color: var(--muted); font-size: 11.5px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; font-variant-numeric: tabular-nums; }
.grid { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px;
  margin-bottom: 14px; }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: 10px;
  padding: 12px 14px 10px; min-width: 0; }
.card h2 { font-size: 13px; font-weight: 600; margin: 0 0 6px; display: flex; gap: 10px;
  align-items: baseline; }
.card h2 .unit { color: var(--muted); font-weight: 500; }
.legend { margin-left: auto; display: flex; gap: 10px; color: var(--muted); font-weight: 500;
  font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 3px; border-radius: 2px;
  vertical-align: middle; margin-right: 4px; }
svg.chart { display: block; width: 100%; height: 170px; }
svg.chart text { fill: var(--muted); font-size: 10.5px; font-family: inherit; }
svg.chart .grid-line { stroke: var(--faint); stroke-width: 1; }
svg.chart .empty { fill: var(--muted); font-size: 12px; }
svg.chart .line { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
svg.chart .area { stroke: none; opacity: .14; }
svg.chart .bar-label { fill: var(--text); font-size: 11.5px; }
svg.chart .bar-value { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
svg.chart .bar-track { fill: var(--faint); }
.c1 { stroke: var(--accent); fill: var(--accent); background: var(--accent); }
.c2 { stroke: var(--violet); fill: var(--violet); background: var(--violet); }
.c3 { stroke: var(--orange); fill: var(--orange); background: var(--orange); }
.c4 { stroke: var(--teal); fill: var(--teal); background: var(--teal); }
.c5 { stroke: var(--amber); fill: var(--amber); background: var(--amber); }
.c6 { stroke: var(--red); fill: var(--red); background: var(--red); }
.c7 { stroke: var(--green); fill: var(--green); background: var(--green); }
.table-card h2 .count { color: var(--muted); font-weight: 500; }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 7px; border-bottom: 1px solid var(--border);
  white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; position: sticky; top: 0;
  background: var(--panel); }
td { font-size: 12.5px; }
td.num, th.num { text-align: right; }
td.mono { font-family: var(--mono); font-size: 12px; }
td.clip { max-width: 170px; overflow: hidden; text-overflow: ellipsis; }
td.faint { color: var(--muted); }
td.small { font-size: 11.5px; text-transform: lowercase; }
tbody tr:hover td { background: var(--panel-2); }
.badge { display: inline-block; min-width: 38px; text-align: center; padding: 1px 6px;
  border-radius: 999px; font-size: 12px; font-weight: 600; }
.badge.s2 { color: var(--green); background: rgba(63,185,104,.14); }
.badge.s3 { color: var(--accent); background: rgba(91,147,255,.14); }
.badge.s4 { color: var(--amber); background: rgba(215,163,58,.16); }
.badge.s5 { color: var(--red); background: rgba(242,85,90,.15); }
.empty-row td { color: var(--muted); text-align: center; padding: 18px; }
@media (max-width: 1100px) {
  .tiles { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  .grid { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
@media (max-width: 700px) {
  .tiles, .grid { grid-template-columns: minmax(0, 1fr); }
}
)css";

}  // namespace portico::telemetry::console_parts
