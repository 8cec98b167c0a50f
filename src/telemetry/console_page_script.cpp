// The console page's script: polls the metrics text and the recent requests, computes rates and
// quantiles from counter and histogram deltas between polls (as rate() and histogram_quantile()
// would), and draws them as inline SVG. Data only ever reaches the DOM through textContent and
// attribute values, never as markup.
#include "telemetry/console_page.hpp"

namespace portico::telemetry::console_parts {

const std::string_view kScript = R"js(
'use strict';
(() => {
  const TOKEN_KEY = 'portico.console.token';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const SPAN_MS = 120000;   // the charts' time window
  const SMOOTH = 4;         // polls per chart point (rate over the last few polls)
  const MAX_ROWS = 50;
  const BARS = 6;

  const $ = (id) => document.getElementById(id);

  // --- settings from the fragment (never sent to the server), then dropped from the URL ---
  const fragment = new URLSearchParams(location.hash.slice(1));
  const interval = Math.min(60000, Math.max(250, Number(fragment.get('interval')) || 1500));
  if (fragment.has('token')) {
    sessionStorage.setItem(TOKEN_KEY, fragment.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  $('interval').textContent = String(interval / 1000);

  // --- the Prometheus text format ---
  function parseValue(text) {
    if (text === '+Inf' || text === 'Inf') return Infinity;
    if (text === '-Inf') return -Infinity;
    return Number(text);
  }

  // One sample line: name{label="value",...} value [timestamp]; null when malformed.
  function parseLine(line) {
    let i = 0;
    while (i < line.length && /[A-Za-z0-9_:]/.test(line[i])) i++;
    const name = line.slice(0, i);
    if (!name) return null;
    const labels = Object.create(null);
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (i >= line.length) return null;
        if (line[i] === '}') { i++; break; }
        const eq = line.indexOf('=', i);
        if (eq < 0) return null;
        const key = line.slice(i, eq).trim();
        i = eq + 1;
        if (line[i] !== '"') return null;
        i++;
        let value = '';
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) {
            value += line[i + 1] === 'n' ? '\n' : line[i + 1];
            i += 2;
          } else {
            value += line[i++];
          }
        }
        if (i >= line.length) return null;
        i++;
        labels[key] = value;
      }
    }
    const fields = line.slice(i).trim().split(/\s+/);
    const value = parseValue(fields[0]);
    if (Number.isNaN(value) && fields[0] !== 'NaN') return null;
    return { name, labels, value };
  }

  // name -> [{labels, value}]
  function parseMetrics(text) {
    const metrics = new Map();
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line[0] === '#') continue;
      const sample = parseLine(line);
      if (!sample) continue;
      if (!metrics.has(sample.name)) metrics.set(sample.name, []);
      metrics.get(sample.name).push(sample);
    }
    return metrics;
  }

  const samplesOf = (metrics, name) => metrics.get(name) || [];

  function total(metrics, name, keep) {
    let sum = 0;
    for (const s of samplesOf(metrics, name)) {
      if ((!keep || keep(s.labels)) && Number.isFinite(s.value)) sum += s.value;
    }
    return sum;
  }

  // le -> count, summed over every label set (sums of cumulative buckets stay cumulative).
  function buckets(metrics, name) {
    const byLe = new Map();
    for (const s of samplesOf(metrics, name + '_bucket')) {
      const le = s.labels.le;
      if (le === undefined || !Number.isFinite(s.value)) continue;
      byLe.set(le, (byLe.get(le) || 0) + s.value);
    }
    return byLe;
  }

  // What a counter gained since the last poll; a counter that went down restarted.
  const gain = (now, before) => (now >= before ? now - before : now);

  function bucketGain(now, before) {
    const out = new Map();
    for (const [le, count] of now) out.set(le, gain(count, before.get(le) || 0));
    return out;
  }

  function addBuckets(into, more) {
    for (const [le, count] of more) into.set(le, (into.get(le) || 0) + count);
  }

  // As histogram_quantile(): linear interpolation inside the bucket holding the rank; the
  // highest finite bound when it falls in +Inf; null without observations.
  function quantile(q, byLe) {
    const list = [...byLe].map(([le, count]) => ({ le: parseValue(le), count }))
      .filter((b) => !Number.isNaN(b.le)).sort((a, b) => a.le - b.le);
    if (!list.length) return null;
    // Cumulative counts can dip where label sets come and go between polls.
    for (let i = 1; i < list.length; i++) list[i].count = Math.max(list[i].count, list[i - 1].count);
    const observed = list[list.length - 1].count;
    if (!(observed > 0)) return null;
    const rank = q * observed;
    let lower = 0;
    let below = 0;
    for (const b of list) {
      if (b.count >= rank) {
        if (b.le === Infinity) return lower;
        const inside = b.count - below;
        return inside > 0 ? lower + (b.le - lower) * (rank - below) / inside : b.le;
      }
      lower = b.le;
      below = b.count;
    }
    return lower;
  }

  // --- what each poll adds ---
  let previous = null;  // the last poll's cumulative values
  const polled = [];    // per poll: {t, dt, requests, errors, latency, ttft}

  function cumulative(metrics, t) {
    return {
      t,
      requests: total(metrics, 'portico_requests_total'),
      errors: total(metrics, 'portico_requests_total', (l) => l.status_class !== '2xx'),
      latency: buckets(metrics, 'portico_request_duration_seconds'),
      ttft: buckets(metrics, 'portico_time_to_first_token_seconds'),
    };
  }

  function record(now) {
    if (previous && now.t > previous.t) {
      polled.push({
        t: now.t,
        dt: (now.t - previous.t) / 1000,
        requests: gain(now.requests, previous.requests),
        errors: gain(now.errors, previous.errors),
        latency: bucketGain(now.latency, previous.latency),
        ttft: bucketGain(now.ttft, previous.ttft),
      });
      while (polled.length && polled[0].t < now.t - SPAN_MS - SMOOTH * interval) polled.shift();
    }
    previous = now;
  }

  // Each chart point sums the last SMOOTH polls, so a quiet poll does not read as a gap.
  function windowAt(index) {
    const w = { dt: 0, requests: 0, errors: 0, latency: new Map(), ttft: new Map() };
    for (let i = Math.max(0, index - SMOOTH + 1); i <= index; i++) {
      const h = polled[i];
      w.dt += h.dt;
      w.requests += h.requests;
      w.errors += h.errors;
      addBuckets(w.latency, h.latency);
      addBuckets(w.ttft, h.ttft);
    }
    return w;
  }

  function series() {
    const out = { t: [], rate: [], errors: [], p50: [], p95: [], p99: [], t50: [], t95: [] };
    const ms = (v) => (v === null ? null : v * 1000);
    polled.forEach((h, i) => {
      const w = windowAt(i);
      out.t.push(h.t);
      out.rate.push(w.dt > 0 ? w.requests / w.dt : 0);
      out.errors.push(w.requests > 0 ? 100 * w.errors / w.requests : null);
      out.p50.push(ms(quantile(0.5, w.latency)));
      out.p95.push(ms(quantile(0.95, w.latency)));
      out.p99.push(ms(quantile(0.99, w.latency)));
      out.t50.push(ms(quantile(0.5, w.ttft)));
      out.t95.push(ms(quantile(0.95, w.ttft)));
    });
    return out;
  }

  // --- formatting ---
  function fmtMs(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    if (v < 1) return v.toFixed(2) + ' ms';
    if (v < 1000) return (v < 10 ? v.toFixed(1) : Math.round(v).toString()) + ' ms';
    return (v / 1000).toFixed(v < 10000 ? 2 : 1) + ' s';
  }
  const fmtSeconds = (s) => (s === null || s === undefined ? '–' : fmtMs(s * 1000));
  function fmtCount(v) {
    if (!Number.isFinite(v)) return '–';
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + 'B';
    if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    return Number.isInteger(v) ? String(v) : v.toFixed(a < 10 ? 2 : 1);
  }
  function fmtUsd(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    if (v === 0) return '$0';
    if (v < 0.01) return '$' + v.toPrecision(2);
    return '$' + v.toFixed(v < 100 ? 2 : 0);
  }
  const fmtPct = (v) => (v === null || !Number.isFinite(v) ? '–' : (v < 10 ? v.toFixed(1) : Math.round(v)) + '%');
  const last = (list) => {
    for (let i = list.length - 1; i >= 0; i--) if (list[i] !== null) return list[i];
    return null;
  };

  // --- SVG drawing ---
  function el(name, attrs, text) {
    const node = document.createElementNS(SVG_NS, name);
    for (const key in attrs) node.setAttribute(key, String(attrs[key]));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function frame(svg) {
    const width = Math.max(200, Math.round(svg.getBoundingClientRect().width) || 400);
    const height = Math.max(120, Math.round(svg.getBoundingClientRect().height) || 170);
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.replaceChildren();
    return { width, height };
  }

  // Four grid steps of 1, 2, 2.5 or 5 times a power of ten, covering `v`.
  function niceStep(v) {
    if (!(v > 0)) return 0.25;
    const power = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5]) if (m * power >= v) return m * power;
    return 10 * power;
  }

  function fmtAxis(v) {
    if (v >= 10000) return fmtCount(v);
    return String(Number(v.toFixed(2)));
  }

  // lines: [{values, cls, area}] over the times `t`. Sets data-points (the most points any line
  // drew), data-max (the highest value drawn) and data-series.
  function lineChart(svg, t, lines, options) {
    const { width, height } = frame(svg);
    const pad = { left: 40, right: 10, top: 8, bottom: 20 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const end = t.length ? t[t.length - 1] : Date.now();
    const start = t.length ? Math.max(t[0], end - SPAN_MS) : end - SPAN_MS;
    const span = Math.max(1, end - start);
    const shown = (v, i) => v !== null && Number.isFinite(v) && t[i] >= start;
    let max = 0;
    let points = 0;
    for (const line of lines) {
      let drawn = 0;
      line.values.forEach((v, i) => {
        if (shown(v, i)) { drawn++; max = Math.max(max, v); }
      });
      points = Math.max(points, drawn);
    }
    const step = niceStep((options.fixedMax || max * 1.08) / 4);
    const top = step * 4;
    for (let i = 0; i <= 4; i++) {
      const y = pad.top + plotH - (plotH * i) / 4;
      svg.append(el('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'grid-line' }));
      svg.append(el('text', { x: pad.left - 6, y: y + 3.5, 'text-anchor': 'end' }, fmtAxis(step * i)));
    }
    const xOf = (time) => pad.left + plotW * (time - start) / span;
    const yOf = (v) => pad.top + plotH - plotH * Math.min(v, top) / top;
    svg.append(el('text', { x: pad.left, y: height - 4 }, '−' + Math.round(span / 1000) + ' s'));
    svg.append(el('text', { x: width - pad.right, y: height - 4, 'text-anchor': 'end' }, 'now'));
    if (!points) {
      svg.append(el('text', { x: pad.left + plotW / 2, y: pad.top + plotH / 2, 'text-anchor': 'middle', class: 'empty' },
        t.length ? options.quiet : 'waiting for a second poll…'));
    }
    for (const line of lines) {
      let path = '';
      let area = '';
      let run = [];
      const flush = () => {
        if (!run.length) return;
        path += run.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join('');
        if (line.area) {
          const base = (pad.top + plotH).toFixed(1);
          area += 'M' + run[0][0].toFixed(1) + ' ' + base + run.map((p) => 'L' + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join('') +
            'L' + run[run.length - 1][0].toFixed(1) + ' ' + base + 'Z';
        }
        run = [];
      };
      line.values.forEach((v, i) => {
        if (!shown(v, i)) { flush(); return; }
        run.push([xOf(t[i]), yOf(v)]);
      });
      const lastPoint = run.length ? run[run.length - 1] : null;
      flush();
      if (area) svg.append(el('path', { d: area, class: 'area ' + line.cls }));
      if (path) svg.append(el('path', { d: path, class: 'line ' + line.cls }));
      if (lastPoint) svg.append(el('circle', { cx: lastPoint[0], cy: lastPoint[1], r: 2.6, class: line.cls }));
    }
    svg.dataset.points = String(points);
    svg.dataset.max = String(Math.round(max * 1000) / 1000);
    svg.dataset.series = String(lines.length);
  }

  // rows: [{label, parts: [{value, cls}], text}], largest first. data-points: the bars drawn.
  function barChart(svg, rows, empty) {
    const { width, height } = frame(svg);
    const shown = rows.slice(0, BARS);
    const rowH = Math.min(26, (height - 6) / Math.max(1, BARS));
    const labelW = Math.min(190, width * 0.42);
    const valueW = 64;
    const barW = Math.max(20, width - labelW - valueW - 12);
    const max = Math.max(0, ...shown.map((r) => r.parts.reduce((s, p) => s + p.value, 0)));
    if (!shown.length) {
      svg.append(el('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'empty' }, empty));
    }
    shown.forEach((row, i) => {
      const y = 4 + i * rowH;
      const label = el('text', { x: 0, y: y + rowH / 2 + 4, class: 'bar-label' }, clip(row.label, Math.floor(labelW / 6.6)));
      label.append(el('title', {}, row.label));
      svg.append(label);
      svg.append(el('rect', { x: labelW, y: y + 4, width: barW, height: rowH - 10, rx: 3, class: 'bar-track' }));
      let x = labelW;
      for (const part of row.parts) {
        const w = max > 0 ? (barW * part.value) / max : 0;
        if (w > 0) svg.append(el('rect', { x, y: y + 4, width: Math.max(1, w), height: rowH - 10, rx: 3, class: part.cls }));
        x += w;
      }
      svg.append(el('text', { x: width, y: y + rowH / 2 + 4, 'text-anchor': 'end', class: 'bar-value' }, row.text));
    });
    svg.dataset.points = String(shown.length);
    svg.dataset.max = String(max);
  }

  const clip = (text, n) => (text.length > n ? text.slice(0, Math.max(1, n - 1)) + '…' : text);

  function byTarget(metrics, name, keep) {
    const groups = new Map();
    for (const s of samplesOf(metrics, name)) {
      if (!Number.isFinite(s.value) || (keep && !keep(s.labels))) continue;
      const key = (s.labels.provider || '?') + ' · ' + (s.labels.model || '?');
      groups.set(key, (groups.get(key) || 0) + s.value);
    }
    return groups;
  }

  function drawTargets(metrics) {
    const input = byTarget(metrics, 'portico_tokens_total', (l) => l.type === 'input');
    const output = byTarget(metrics, 'portico_tokens_total', (l) => l.type === 'output');
    const keys = new Set([...input.keys(), ...output.keys()]);
    const tokenRows = [...keys].map((key) => {
      const i = input.get(key) || 0;
      const o = output.get(key) || 0;
      return { label: key, sum: i + o, text: fmtCount(i) + ' / ' + fmtCount(o),
        parts: [{ value: i, cls: 'c1' }, { value: o, cls: 'c2' }] };
    }).filter((r) => r.sum > 0).sort((a, b) => b.sum - a.sum);
    barChart($('chart-tokens'), tokenRows, 'no tokens reported yet');
    const cost = byTarget(metrics, 'portico_estimated_cost_usd_total');
    const costRows = [...cost].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1])
      .map(([key, v]) => ({ label: key, text: fmtUsd(v), parts: [{ value: v, cls: 'c7' }] }));
    barChart($('chart-cost'), costRows, 'no priced usage yet');
    let inTokens = 0;
    let outTokens = 0;
    for (const v of input.values()) inTokens += v;
    for (const v of output.values()) outTokens += v;
    let usd = 0;
    for (const v of cost.values()) usd += v;
    $('tile-tokens').textContent = fmtCount(inTokens + outTokens);
    $('tile-tokens-detail').textContent = 'in ' + fmtCount(inTokens) + ' · out ' + fmtCount(outTokens);
    $('tile-cost').textContent = fmtUsd(usd);
    $('tile-cost-detail').textContent = cost.size ? 'estimated, since start' : 'no priced usage yet';
  }

  function fmtUptime(seconds) {
    if (!(seconds >= 0)) return '';
    const d = Math.floor(seconds / 86400);
    const h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    if (d) return 'up ' + d + 'd ' + h + 'h';
    if (h) return 'up ' + h + 'h ' + m + 'm';
    return 'up ' + m + 'm ' + Math.floor(seconds % 60) + 's';
  }

  function drawProcess(metrics) {
    const build = samplesOf(metrics, 'portico_build_info')[0];
    $('version').textContent = build && build.labels.version ? 'v' + build.labels.version : '';
    const started = samplesOf(metrics, 'process_start_time_seconds')[0];
    $('uptime').textContent = started ? fmtUptime(Date.now() / 1000 - started.value) : '';
  }

  function drawMetrics(metrics) {
    drawProcess(metrics);
    const s = series();
    lineChart($('chart-rate'), s.t, [{ values: s.rate, cls: 'c1', area: true }], { quiet: '' });
    // Without errors the scale stays at 0-100% rather than zooming into nothing.
    const anyErrors = s.errors.some((v) => v !== null && v > 0);
    lineChart($('chart-errors'), s.t, [{ values: s.errors, cls: 'c6', area: true }],
      { quiet: 'no requests in this window', fixedMax: anyErrors ? 0 : 100 });
    lineChart($('chart-latency'), s.t, [{ values: s.p50, cls: 'c1' }, { values: s.p95, cls: 'c2' },
      { values: s.p99, cls: 'c3' }], { quiet: 'no requests in this window' });
    lineChart($('chart-ttft'), s.t, [{ values: s.t50, cls: 'c4' }, { values: s.t95, cls: 'c5', area: true }],
      { quiet: 'no streams in this window' });
    drawTargets(metrics);
    const requests = total(metrics, 'portico_requests_total');
    const errors = total(metrics, 'portico_requests_total', (l) => l.status_class !== '2xx');
    const rate = last(s.rate);
    $('tile-rate').textContent = rate === null ? '–' : fmtCount(rate) + ' /s';
    $('tile-rate-detail').textContent = fmtCount(requests) + ' since start';
    $('tile-errors').textContent = fmtPct(last(s.errors));
    $('tile-errors-detail').textContent = fmtCount(errors) + ' non-2xx since start';
    $('tile-latency').textContent = fmtMs(last(s.p95));
    // Tiles are narrow: one unit for both when they share it.
    const p50 = fmtMs(last(s.p50));
    const p99 = fmtMs(last(s.p99));
    const shared = p50.endsWith(' ms') && p99.endsWith(' ms');
    $('tile-latency-detail').textContent =
      'p50 ' + (shared ? p50.slice(0, -3) : p50) + ' · p99 ' + p99;
    $('tile-ttft').textContent = fmtMs(last(s.t95));
    $('tile-ttft-detail').textContent = 'p50 ' + fmtMs(last(s.t50));
    $('tile-inflight').textContent = fmtCount(total(metrics, 'portico_requests_in_flight'));
    $('tile-inflight-detail').textContent = 'streams ' + fmtCount(total(metrics, 'portico_streams_in_flight'));
  }

  // --- the table ---
  function cell(text, cls, title) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    if (title) td.title = title;
    return td;
  }

  function timeOf(ms) {
    const d = new Date(ms);
    const two = (n) => String(n).padStart(2, '0');
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds()) + '.' +
      String(d.getMilliseconds()).padStart(3, '0');
  }

  const countText = (v) => (v === null || v === undefined ? '–' : fmtCount(v));
  const plain = (v) => (typeof v === 'string' ? v : '');

  function drawRecent(list) {
    const data = Array.isArray(list.data) ? list.data.slice(0, MAX_ROWS) : [];
    const rows = data.map((r) => {
      const tr = document.createElement('tr');
      const status = Number(r.status) || 0;
      const badge = document.createElement('span');
      badge.className = 'badge s' + Math.min(5, Math.max(1, Math.floor(status / 100)));
      badge.textContent = String(status);
      const statusCell = document.createElement('td');
      statusCell.append(badge);
      if (r.stream_broken) statusCell.title = 'the stream ended with an error event';
      if (r.client_gone) statusCell.title = 'the client hung up';
      const path = plain(r.path);
      const model = plain(r.model);
      const trace = plain(r.trace_id);
      const key = plain(r.virtual_key);
      tr.append(
        cell(timeOf(Number(r.time_ms) || 0), 'mono'),
        cell(plain(r.method), 'mono'),
        cell(path, 'mono clip', path),
        cell(plain(r.provider) || '–'),
        cell(model || '–', 'clip', model),
        statusCell,
        cell(fmtSeconds(r.total_seconds), 'num'),
        cell(fmtSeconds(r.upstream_seconds), 'num'),
        cell(r.streamed ? fmtSeconds(r.ttft_seconds) : '–', 'num'),
        cell(countText(r.input_tokens), 'num'),
        cell(countText(r.output_tokens), 'num'),
        cell(r.cost_usd === null || r.cost_usd === undefined ? '–' : fmtUsd(r.cost_usd), 'num'),
        cell(plain(r.cache) || '–', 'faint small'),
        cell(String(Number(r.retries) || 0), 'num'),
        cell(key || '–', key ? '' : 'faint'),
        cell(trace ? trace.slice(0, 8) : '–', 'mono faint', trace),
      );
      return tr;
    });
    const body = $('recent-rows');
    if (!rows.length) {
      const tr = document.createElement('tr');
      tr.className = 'empty-row';
      const td = cell('No gateway requests yet.');
      td.colSpan = 16;
      tr.append(td);
      body.replaceChildren(tr);
    } else {
      body.replaceChildren(...rows);
    }
    body.dataset.rows = String(rows.length);
    const recorded = Number(list.recorded) || 0;
    $('recent-count').textContent = rows.length ? rows.length + ' of ' + fmtCount(recorded) + ' recorded' : '';
  }

  // --- polling ---
  class AuthNeeded extends Error {}
  let timer = null;
  let paused = false;
  let polls = 0;

  async function get(path) {
    const headers = {};
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    const answer = await fetch(path, { headers, cache: 'no-store', credentials: 'omit', redirect: 'error' });
    if (answer.status === 401) throw new AuthNeeded();
    return { status: answer.status, text: await answer.text() };
  }

  function setState(state, text) {
    document.body.dataset.state = state;
    $('status-text').textContent = text;
  }

  function askForToken(message) {
    setState('auth', 'Admin token needed');
    $('auth').hidden = false;
    $('dashboard').hidden = true;
    $('auth-message').textContent = message;
    $('token-input').focus();
  }

  let busy = false;  // one poll at a time, whatever restarts polling (resume, token, hash)

  async function poll() {
    if (busy) return;  // the poll under way schedules the next
    busy = true;
    timer = null;
    try {
      const [metrics, recent] = await Promise.all([get('/console/api/metrics'), get('/console/api/recent?limit=' + MAX_ROWS)]);
      const notes = [];
      if (metrics.status === 200) {
        const parsed = parseMetrics(metrics.text);
        record(cumulative(parsed, Date.now()));
        drawMetrics(parsed);
      } else {
        notes.push('Metrics are not available (HTTP ' + metrics.status + '): the charts stay empty.');
      }
      if (recent.status === 200) {
        drawRecent(JSON.parse(recent.text));
      } else {
        notes.push('Recent requests are not available (HTTP ' + recent.status + ').');
      }
      $('notice').textContent = notes.join(' ');
      polls++;
      document.body.dataset.polls = String(polls);
      $('updated').textContent = 'updated ' + timeOf(Date.now()).slice(0, 8);
      $('forget').hidden = !sessionStorage.getItem(TOKEN_KEY);
      setState('live', paused ? 'Paused' : 'Live');
    } catch (error) {
      if (error instanceof AuthNeeded) {
        askForToken(sessionStorage.getItem(TOKEN_KEY) ? 'That token was refused.' : '');
        return;
      }
      setState('error', 'Gateway unreachable, retrying');
    } finally {
      busy = false;
    }
    schedule();
  }

  function schedule() {
    if (!paused && timer === null) timer = setTimeout(poll, interval);
  }

  $('auth-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token-input').value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token-input').value = '';
    $('auth').hidden = true;
    $('dashboard').hidden = false;
    setState('connecting', 'Connecting…');
    poll();
  });
  $('forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    if (timer !== null) clearTimeout(timer);
    timer = null;
    askForToken('');
  });
  $('pause').addEventListener('click', () => {
    paused = !paused;
    $('pause').textContent = paused ? 'Resume' : 'Pause';
    if (paused) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      setState('live', 'Paused');
    } else {
      poll();
    }
  });
  window.addEventListener('hashchange', () => {
    const again = new URLSearchParams(location.hash.slice(1));
    if (!again.has('token')) return;
    sessionStorage.setItem(TOKEN_KEY, again.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
    $('auth').hidden = true;
    $('dashboard').hidden = false;
    if (timer !== null) clearTimeout(timer);
    poll();
  });
  poll();
})();
)js";

}  // namespace portico::telemetry::console_parts
