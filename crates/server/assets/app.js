// vane dashboard: plain JavaScript, no build step. Talks to the JSON endpoints of `vane serve`
// (docs/api.md): /v1/runs…, /health, /v1/signal/{tag}, POST /v1/thresholds/reload.
// Charts: uPlot (canvas, vendored under /assets/vendor/) and small SVG drawings (bars, heatmap).
// `?selftest=1&token=T` runs the page's own end-to-end check and writes a JSON verdict into
// <pre id="selftest"> (used by the browser test, bins/vane/tests/dashboard.rs).
"use strict";

// ---------------------------------------------------------------------------------------------
// Errors seen by the page (the self-test reports them).
const pageErrors = [];
window.addEventListener("error", (e) => pageErrors.push("error: " + (e.message || e.type)));
window.addEventListener("unhandledrejection", (e) => pageErrors.push("unhandled rejection: " + String(e.reason)));
document.addEventListener("securitypolicyviolation", (e) => pageErrors.push(`CSP blocked ${e.blockedURI || "inline"} (${e.violatedDirective})`));
const consoleError = console.error.bind(console);
console.error = (...args) => {
  pageErrors.push("console.error: " + args.map(String).join(" "));
  consoleError(...args);
};

// ---------------------------------------------------------------------------------------------
// Helpers.
const $ = (sel) => document.querySelector(sel);
const PAGE_SIZE = 50;
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
const HEADLINE = ["total_return", "sharpe_ratio", "max_drawdown", "win_rate"];
const HEADLINE_SHORT = { total_return: "return", sharpe_ratio: "sharpe", max_drawdown: "max dd", win_rate: "win rate" };
const TOKEN_KEY = "vane.apiToken";

const state = {
  offset: 0,
  total: 0,
  runs: [],
  selected: new Set(),
  current: null,
  charts: {},
  lastReload: null,
};

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// GET/POST `path`, JSON in and out; a non-2xx answer throws HttpError with the server's message.
async function api(path, options = {}) {
  const resp = await fetch(path, options);
  let body = null;
  try {
    body = await resp.json();
  } catch (_) {
    body = null;
  }
  if (!resp.ok) {
    const msg = body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${resp.status}`;
    throw new HttpError(resp.status, msg);
  }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmtNum(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(a >= 100 ? 1 : 4);
}

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined) return "—";
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

// A run id (`YYYYMMDDTHHMMSS-verb-model-abcd`) shortened for narrow places: its time and suffix.
function shortId(id) {
  const m = /^(\d{8}T\d{6})-.*-([0-9a-f]{4})$/.exec(id);
  return m ? `${m[1]}…${m[2]}` : id;
}

function signClass(v) {
  return v > 0 ? "pos" : v < 0 ? "neg" : "";
}

function chartWidth(node) {
  return Math.max(260, Math.floor(node.getBoundingClientRect().width) || 400);
}

// The API token of the mutating endpoints: asked once, kept for this browser session.
function apiToken() {
  let t = sessionStorage.getItem(TOKEN_KEY);
  if (!t) {
    t = window.prompt("API token of this server (kept in this tab's session storage):") || "";
    t = t.trim();
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Health and seed 000's runtime.
async function loadHealth() {
  const box = $("#health-summary");
  const rt = $("#health-runtime");
  try {
    const h = await api("/health");
    box.textContent = "";
    const pill = (text, cls = "") => el("span", { class: "pill " + cls, text });
    const stale = h.data.filter((d) => d.stale).length;
    const broken = h.models.filter((m) => m.error).length;
    box.append(
      pill(`status ${h.status}`, h.status === "ok" ? "ok" : "warn"),
      pill(`v${h.version}`),
      pill(`up ${fmtDuration(h.uptime_s * 1000)}`),
      pill(`${h.models.length} models${broken ? `, ${broken} broken` : ""}`, broken ? "warn" : ""),
      pill(`${h.data.length} series${stale ? `, ${stale} stale` : ""}`, stale ? "warn" : ""),
      pill(h.jobs ? `jobs ${h.jobs.queued} queued / ${h.jobs.running} running` : "no job queue"),
      pill(`threshold reloads ${h.thresholds_reloads}`),
    );
    if (h.models.length === 0) box.append(pill("no models: predictions unavailable", "warn"));
    box.title = h.models.map((m) => `${m.id}: ${m.error ? "ERROR " + m.error : `${m.kind} ${m.interval}`}`).join("\n");
    rt.textContent = "";
    if (h.stack_tags.length === 0) {
      rt.append(el("span", { class: "muted", text: "runtime: off (no --model-tag)" }));
    } else {
      for (const tag of h.stack_tags) {
        try {
          const s = await api(`/v1/signal/${encodeURIComponent(tag)}`);
          const parts = s.symbols.map((x) => `${x.symbol} ${x.signal}${x.confidence != null ? " " + x.confidence.toFixed(2) : ""} (consensus ${x.consensus})`);
          rt.append(el("span", { class: "pill", text: `${tag}: ${parts.join(", ") || "no decision yet"}` }));
        } catch (e) {
          rt.append(el("span", { class: "pill warn", text: `${tag}: ${e.message}` }));
        }
      }
    }
  } catch (e) {
    box.textContent = `health unavailable: ${e.message}`;
  }
}

// "Load thresholds" (seed 000's „Načíst prahy"): POST /v1/thresholds/reload with the token.
async function reloadThresholds() {
  const out = $("#reload-result");
  const token = apiToken();
  if (!token) {
    out.textContent = "no token given";
    return { ok: false, status: 0 };
  }
  out.textContent = "reloading…";
  try {
    const r = await api("/v1/thresholds/reload", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    const changed = r.models.filter((m) => m.changed).map((m) => m.id);
    out.textContent = `reloaded ${r.reloaded} model(s), ${r.changed} changed${changed.length ? ": " + changed.join(", ") : ""}`;
    loadHealth();
    return { ok: true, status: 200, reloaded: r.reloaded };
  } catch (e) {
    if (e.status === 401) sessionStorage.removeItem(TOKEN_KEY);
    out.textContent = `refused: ${e.message}`;
    return { ok: false, status: e.status || 0 };
  }
}

// ---------------------------------------------------------------------------------------------
// The run list.
function filterParams() {
  const p = new URLSearchParams();
  for (const f of ["verb", "model", "symbol", "status"]) {
    const v = $(`#f-${f}`).value;
    if (v) p.set(f, v);
  }
  return p;
}

function fillSelect(sel, values) {
  const keep = sel.value;
  while (sel.options.length > 1) sel.remove(1);
  for (const v of values) sel.append(el("option", { value: v, text: v }));
  if (values.includes(keep)) sel.value = keep;
}

async function loadRuns() {
  const p = filterParams();
  p.set("limit", PAGE_SIZE);
  p.set("offset", state.offset);
  const err = $("#runs-error");
  err.textContent = "";
  try {
    const list = await api(`/v1/runs?${p}`);
    state.runs = list.runs;
    state.total = list.total;
    fillSelect($("#f-verb"), list.facets.verbs);
    fillSelect($("#f-model"), list.facets.models);
    fillSelect($("#f-symbol"), list.facets.symbols);
    $("#runs-count").textContent = `${list.total} in ${list.runs_dir}`;
    if (list.unreadable.length) err.textContent = `unreadable runs:\n${list.unreadable.join("\n")}`;
    renderRuns();
  } catch (e) {
    err.textContent = e.message;
  }
}

function renderRuns() {
  // A walk-forward run records its stitched out-of-sample metrics as oos_<name>: shown in the
  // same column (marked "oos").
  const headline = (r, m) => (m in r.metrics ? [r.metrics[m], false] : [r.metrics[`oos_${m}`], `oos_${m}` in r.metrics]);
  const metricCols = HEADLINE.filter((m) => state.runs.some((r) => m in r.metrics || `oos_${m}` in r.metrics));
  const thead = $("#runs-table thead");
  thead.textContent = "";
  const hr = el("tr", {}, el("th", { text: "" }), el("th", { text: "id (start…suffix)" }), el("th", { text: "verb · model" }),
    el("th", { text: "symbols" }), el("th", { text: "status" }));
  for (const m of metricCols) hr.append(el("th", { class: "num", text: HEADLINE_SHORT[m], title: m }));
  thead.append(hr);
  const tbody = $("#runs-table tbody");
  tbody.textContent = "";
  for (const r of state.runs) {
    const box = el("input", { type: "checkbox", "data-id": r.id, title: "select for comparison" });
    box.checked = state.selected.has(r.id);
    box.addEventListener("change", () => {
      if (box.checked) state.selected.add(r.id);
      else state.selected.delete(r.id);
      updateCompareButton();
    });
    const link = el("a", { class: "mono", "data-id": r.id, text: shortId(r.id), title: `open ${r.id}` });
    link.addEventListener("click", () => openRunShown(r.id));
    const tr = el("tr", { class: state.current === r.id ? "current" : "" },
      el("td", {}, box), el("td", {}, link), el("td", { text: `${r.verb} · ${r.model}` }),
      el("td", { text: r.symbols.join(",") + (r.interval ? ` ${r.interval}` : "") }),
      el("td", { class: `status-${r.status}`, text: r.status }));
    for (const m of metricCols) {
      const [v, oos] = headline(r, m);
      const td = el("td", { class: "num " + (m === "max_drawdown" ? "" : signClass(v)), text: fmtNum(v) });
      if (oos) td.append(el("sup", { class: "muted", text: " oos", title: `oos_${m}` }));
      tr.append(td);
    }
    tbody.append(tr);
  }
  const last = Math.min(state.offset + state.runs.length, state.total);
  $("#page-info").textContent = state.total ? `${state.offset + 1}–${last} of ${state.total}` : "no runs";
  $("#prev-page").disabled = state.offset === 0;
  $("#next-page").disabled = last >= state.total;
  updateCompareButton();
}

function updateCompareButton() {
  const b = $("#compare-btn");
  b.disabled = state.selected.size < 2;
  b.textContent = `Compare selected (${state.selected.size})`;
}

// ---------------------------------------------------------------------------------------------
// uPlot charts.
function replaceChart(key, node, opts, data) {
  if (state.charts[key]) state.charts[key].destroy();
  node.textContent = "";
  state.charts[key] = new uPlot(opts, data, node);
  return state.charts[key];
}

function timeChart(key, node, xMs, series, opts = {}) {
  const data = [xMs.map((x) => x / 1000), ...series.map((s) => s.values)];
  return replaceChart(key, node, {
    width: chartWidth(node),
    height: opts.height || 220,
    cursor: { sync: { key: opts.sync || key } },
    scales: { x: { time: true } },
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: s.color || COLORS[i % COLORS.length],
      fill: s.fill,
      width: 1.5,
      spanGaps: false,
      value: (_, v) => fmtNum(v),
    }))],
    axes: [{}, { size: 56 }],
  }, data);
}

// ---------------------------------------------------------------------------------------------
// Comparison.
async function compareSelected(ids = [...state.selected]) {
  const node = $("#compare-chart");
  const p = new URLSearchParams({ ids: ids.join(","), max_points: String(Math.min(4000, 2 * chartWidth(node))) });
  const c = await api(`/v1/runs/compare?${p}`);
  $("#compare-empty").hidden = true;
  timeChart("compare", node, c.equity.x, c.runs.map((r, i) => ({
    label: shortId(r.id), color: COLORS[i % COLORS.length], values: c.equity.series[r.id],
  })), { height: 260 });
  $("#compare-note").textContent = `equity compounded from returns.csv on one time axis: ${c.equity.x.length} of ${c.equity.total_points} points` +
    (c.equity.downsampled === "minmax" ? " (server-side min/max per bucket)" : "");
  const legend = $("#compare-legend");
  legend.textContent = "";
  c.runs.forEach((r, i) => {
    const item = el("span", { class: "link mono", "data-id": r.id, title: "open this run" });
    item.append(el("span", { text: "■ ", style: `color:${COLORS[i % COLORS.length]}` }), r.id);
    item.addEventListener("click", () => openRunShown(r.id));
    legend.append(item);
  });
  const table = $("#compare-table");
  table.textContent = "";
  const head = el("tr", {}, el("th", { text: "metric" }));
  c.runs.forEach((r, i) => {
    const th = el("th", { class: "num mono", "data-id": r.id, title: r.id });
    th.append(el("span", { text: "■ ", style: `color:${COLORS[i % COLORS.length]}` }), shortId(r.id));
    head.append(th);
  });
  table.append(el("thead", {}, head));
  const body = el("tbody");
  const info = [["verb", (r) => r.verb], ["model", (r) => r.model], ["symbols", (r) => r.symbols.join(",")], ["interval", (r) => r.interval || "—"]];
  for (const [name, f] of info) {
    const tr = el("tr", {}, el("td", { class: "muted", text: name }));
    for (const r of c.runs) tr.append(el("td", { class: "num", text: f(r) }));
    body.append(tr);
  }
  for (const m of c.metrics) {
    const tr = el("tr", {}, el("td", { text: m }));
    const vals = c.table[m];
    const finite = vals.filter((v) => v !== null);
    const best = m === "max_drawdown" || m === "max_consecutive_losses" ? Math.min(...finite) : Math.max(...finite);
    for (const v of vals) tr.append(el("td", { class: "num", text: fmtNum(v), style: finite.length > 1 && v === best ? "font-weight:700" : "" }));
    body.append(tr);
  }
  table.append(body);
  return c;
}

// ---------------------------------------------------------------------------------------------
// One run: metadata, equity + drawdown, training curves, plots, and its windows when a WFO run.
async function openRun(id) {
  state.current = id;
  renderRuns();
  const d = await api(`/v1/runs/${encodeURIComponent(id)}`);
  const r = d.run;
  $("#run-empty").hidden = true;
  $("#run-title").textContent = r.id;
  const meta = $("#run-meta");
  meta.textContent = "";
  const kv = (k, v) => el("span", {}, el("span", { class: "k", text: k + " " }), el("span", { text: v }));
  meta.append(kv("verb", r.verb), kv("model", r.model), kv("symbols", r.symbols.join(",") || "—"), kv("interval", r.interval || "—"),
    kv("status", r.status), kv("started", fmtTime(r.created_ms)),
    kv("took", r.finished_ms ? fmtDuration(r.finished_ms - r.created_ms) : "—"), kv("vane", r.environment.vane_version),
    kv("files", d.files.map((f) => f.name).join(" ")));
  const grid = el("div", { class: "metric-grid" });
  for (const [k, v] of Object.entries(r.metrics)) grid.append(el("div", {}, el("span", { text: k }), el("span", { class: "num", text: fmtNum(v) })));
  meta.append(grid);
  for (const n of r.notes) meta.append(el("div", { class: "muted", text: "note: " + n }));

  const notes = [];
  const eqNode = $("#equity-chart");
  const ddNode = $("#drawdown-chart");
  if (d.has_returns) {
    const max = String(Math.min(4000, 2 * chartWidth(eqNode)));
    const [eq, dd] = await Promise.all([
      api(`/v1/runs/${encodeURIComponent(id)}/series?kind=equity&max_points=${max}`),
      api(`/v1/runs/${encodeURIComponent(id)}/series?kind=drawdown&max_points=${max}`),
    ]);
    timeChart("equity", eqNode, eq.x, [{ label: "equity", values: eq.series.equity }], { sync: "run" });
    timeChart("drawdown", ddNode, dd.x, [{ label: "drawdown", color: "#dc2626", fill: "rgba(220,38,38,0.15)", values: dd.series.drawdown }], { sync: "run" });
    notes.push(`equity/drawdown: ${eq.x.length} of ${eq.total_points} points${eq.downsampled === "minmax" ? " (min/max per bucket)" : ""}`);
  } else {
    for (const [k, n] of [["equity", eqNode], ["drawdown", ddNode]]) {
      if (state.charts[k]) state.charts[k].destroy();
      delete state.charts[k];
      n.textContent = "no returns.csv";
    }
  }
  const hNode = $("#history-chart");
  if (d.has_history) {
    const h = await api(`/v1/runs/${encodeURIComponent(id)}/series?kind=history`);
    replaceChart("history", hNode, {
      width: chartWidth(hNode),
      height: 220,
      scales: { x: { time: false } },
      series: [{ label: "epoch" },
        { label: "train loss", stroke: COLORS[0], width: 1.5, value: (_, v) => fmtNum(v) },
        { label: "valid loss", stroke: COLORS[1], width: 1.5, value: (_, v) => fmtNum(v) }],
      axes: [{}, { size: 56 }],
    }, [h.x, h.series.train_loss, h.series.valid_loss]);
  } else {
    if (state.charts.history) state.charts.history.destroy();
    delete state.charts.history;
    hNode.textContent = "no history.csv";
  }
  $("#series-note").textContent = notes.join("; ");

  const plots = $("#plots");
  plots.textContent = "";
  if (d.plots.length === 0) plots.append(el("span", { class: "muted", text: "no plots/ in this run" }));
  // Calibration / reliability first: they are what this panel is for beside the equity.
  const order = (n) => (/reliab|calib/.test(n) ? 0 : /equity|drawdown/.test(n) ? 1 : 2);
  // A plot written as both SVG and PNG is shown once, as SVG.
  const shown = d.plots.filter((n) => !(n.endsWith(".png") && d.plots.includes(n.replace(/\.png$/, ".svg"))));
  for (const name of shown.sort((a, b) => order(a) - order(b) || a.localeCompare(b))) {
    const src = `/v1/runs/${encodeURIComponent(id)}/plots/${encodeURIComponent(name)}`;
    const a = el("a", { href: src, target: "_blank" }, el("img", { src, alt: name, loading: "lazy" }));
    plots.append(el("figure", {}, a, el("figcaption", { text: name })));
  }

  if (d.has_windows) await loadWindows(id, r.config && r.config.optimize_metric);
  else clearWindows(`${r.id} is a ${r.verb} run: no windows.csv.`);
  return d;
}

// openRun for a click: a failure (a corrupt file of the run, say) is shown in the panel.
function openRunShown(id) {
  $("#run-error").textContent = "";
  openRun(id).catch((e) => { $("#run-error").textContent = `${id}: ${e.message}`; });
}

// ---------------------------------------------------------------------------------------------
// Walk-forward windows: grouped bars of the in-sample and out-of-sample metric, and the table.
let wfo = null;

function clearWindows(message) {
  wfo = null;
  $("#wfo-empty").hidden = false;
  $("#wfo-empty").textContent = message;
  $("#wfo-metric-label").hidden = true;
  $("#wfo-chart").textContent = "";
  $("#wfo-table").textContent = "";
}

async function loadWindows(id, optimized) {
  wfo = await api(`/v1/runs/${encodeURIComponent(id)}/windows`);
  $("#wfo-empty").hidden = true;
  const sel = $("#wfo-metric");
  sel.textContent = "";
  for (const m of wfo.metrics) sel.append(el("option", { value: m, text: m + (m === (wfo.optimize_metric || optimized) ? " (optimised)" : "") }));
  const pick = [wfo.optimize_metric, optimized, "sharpe_ratio", wfo.metrics[0]].find((m) => m && wfo.metrics.includes(m));
  if (pick) sel.value = pick;
  $("#wfo-metric-label").hidden = wfo.metrics.length === 0;
  renderWindows();
  return wfo;
}

function renderWindows() {
  if (!wfo) return;
  const metric = $("#wfo-metric").value;
  const node = $("#wfo-chart");
  node.textContent = "";
  if (metric) node.append(windowBars(wfo.rows, metric, chartWidth(node)));
  const table = $("#wfo-table");
  table.textContent = "";
  const hot = new Set([`is_${metric}`, `oos_${metric}`]);
  table.append(el("thead", {}, el("tr", {}, ...wfo.columns.map((c) => el("th", { class: hot.has(c) ? "num opt" : "num", text: c })))));
  const body = el("tbody");
  for (const row of wfo.rows) {
    body.append(el("tr", {}, ...wfo.columns.map((c) => {
      const v = row[c];
      const text = typeof v === "number" ? (c.endsWith("_ms") ? fmtTime(v) : fmtNum(v)) : v === null ? "—" : String(v);
      return el("td", { class: hot.has(c) ? "num opt" : "num", text });
    })));
  }
  table.append(body);
}

// Round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi].
function niceTicks(lo, hi) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.floor(lo / step) * step; v < hi + step * 0.999; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

// Grouped bars per window: in-sample (blue) and out-of-sample (orange) values of `metric`.
function windowBars(rows, metric, width) {
  const height = 240;
  const m = { l: 56, r: 10, t: 22, b: 28 };
  const vals = rows.flatMap((r) => [r[`is_${metric}`], r[`oos_${metric}`]]).filter((v) => typeof v === "number");
  const ticks = niceTicks(Math.min(0, ...vals), Math.max(0, ...vals));
  const lo = ticks[0];
  const hi = ticks[ticks.length - 1];
  const y = (v) => m.t + (hi - v) / (hi - lo) * (height - m.t - m.b);
  const slot = (width - m.l - m.r) / Math.max(rows.length, 1);
  const s = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${metric} per window` });
  for (const v of ticks) {
    s.append(svg("line", { x1: m.l, x2: width - m.r, y1: y(v), y2: y(v), stroke: "#e5e7eb" }));
    s.append(svg("text", { x: m.l - 4, y: y(v) + 4, "text-anchor": "end" }, String(+v.toPrecision(6))));
  }
  s.append(svg("line", { x1: m.l, x2: width - m.r, y1: y(0), y2: y(0), stroke: "#6b7280" }));
  rows.forEach((r, i) => {
    const x0 = m.l + i * slot;
    const bw = Math.max(1, slot * 0.38);
    [[`is_${metric}`, "#2563eb", 0.1], [`oos_${metric}`, "#ea580c", 0.52]].forEach(([col, color, off]) => {
      const v = r[col];
      if (typeof v !== "number") return;
      const top = Math.min(y(v), y(0));
      const h = Math.max(1, Math.abs(y(v) - y(0)));
      const rect = svg("rect", { class: "bar", x: x0 + slot * off, y: top, width: bw, height: h, fill: color });
      rect.append(svg("title", {}, `window ${r.window ?? i}: ${col} = ${fmtNum(v)}`));
      s.append(rect);
    });
    if (rows.length <= 40 || i % Math.ceil(rows.length / 40) === 0) {
      s.append(svg("text", { x: x0 + slot / 2, y: height - m.b + 14, "text-anchor": "middle" }, String(r.window ?? i)));
    }
  });
  s.append(svg("text", { x: m.l, y: 14 }, `${metric}: `));
  s.append(svg("rect", { x: m.l + 110, y: 5, width: 10, height: 10, fill: "#2563eb" }));
  s.append(svg("text", { x: m.l + 124, y: 14 }, "in-sample"));
  s.append(svg("rect", { x: m.l + 190, y: 5, width: 10, height: 10, fill: "#ea580c" }));
  s.append(svg("text", { x: m.l + 204, y: 14 }, "out-of-sample"));
  s.append(svg("text", { x: (width + m.l) / 2, y: height - 2, "text-anchor": "middle" }, "window"));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Metrics correlation heatmap (Pearson across runs, pairwise complete).
async function loadCorrelation() {
  const c = await api(`/v1/runs/correlation?${filterParams()}`);
  $("#corr-count").textContent = `over ${c.runs} runs`;
  const node = $("#corr-heatmap");
  node.textContent = "";
  // Metrics with no defined correlation to any other (recorded by too few runs) are listed
  // below the map instead of filling it with grey.
  const keep = c.metrics.map((_, i) => i).filter((i) => c.r[i].some((r, j) => j !== i && r !== null));
  const dropped = c.metrics.filter((_, i) => !keep.includes(i));
  const k = keep.length;
  if (k < 2) {
    node.append(el("span", { class: "muted", text: "no pair of metrics is shared by 3 or more of these runs" }));
    return c;
  }
  const names = keep.map((i) => c.metrics[i]);
  const rOf = (a, b) => c.r[keep[a]][keep[b]];
  const nOf = (a, b) => c.n[keep[a]][keep[b]];
  const label = 150;
  const spill = 70; // the rotated column labels lean right past the last column
  const cell = Math.max(12, Math.min(34, Math.floor((chartWidth(node) - label - spill) / k)));
  const w = label + k * cell + spill;
  const h = label + k * cell + 4;
  const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": "metrics correlation" });
  const color = (r) => {
    if (r === null) return "#e5e7eb";
    const t = Math.min(1, Math.abs(r));
    const [a, b, g] = r >= 0 ? [220, 38, 38] : [37, 99, 235];
    const mix = (x) => Math.round(255 + (x - 255) * t);
    return `rgb(${mix(a)},${mix(b)},${mix(g)})`;
  };
  names.forEach((name, i) => {
    s.append(svg("text", { x: label - 4, y: label + i * cell + cell / 2 + 4, "text-anchor": "end" }, name));
    s.append(svg("text", { x: 0, y: 0, transform: `translate(${label + i * cell + cell / 2 + 4},${label - 4}) rotate(-60)` }, name));
    for (let j = 0; j < k; j++) {
      const r = rOf(i, j);
      const rect = svg("rect", { class: "cell", x: label + j * cell, y: label + i * cell, width: cell - 1, height: cell - 1, fill: color(r) });
      rect.append(svg("title", {}, `${name} × ${names[j]}: r = ${r === null ? "undefined" : r.toFixed(3)} over ${nOf(i, j)} runs`));
      s.append(rect);
      if (cell >= 26 && r !== null) {
        s.append(svg("text", { x: label + j * cell + cell / 2, y: label + i * cell + cell / 2 + 4, "text-anchor": "middle", style: "font-size:9px" }, r.toFixed(2)));
      }
    }
  });
  node.append(s);
  node.append(el("div", { class: "muted small", text: "Pearson r across runs, each pair over the runs that have both (grey: fewer than 3, or a constant metric); red positive, blue negative." }));
  if (dropped.length) node.append(el("div", { class: "muted small", text: `not shared by 3 runs with any other metric: ${dropped.join(", ")}` }));
  return c;
}

// ---------------------------------------------------------------------------------------------
// Wiring.
function wire() {
  for (const f of ["verb", "model", "symbol", "status"]) {
    $(`#f-${f}`).addEventListener("change", () => {
      state.offset = 0;
      loadRuns();
      loadCorrelation().catch((e) => { $("#corr-heatmap").textContent = e.message; });
    });
  }
  $("#prev-page").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadRuns(); });
  $("#next-page").addEventListener("click", () => { state.offset += PAGE_SIZE; loadRuns(); });
  $("#compare-btn").addEventListener("click", () => compareSelected().catch((e) => { $("#compare-note").textContent = e.message; }));
  $("#wfo-metric").addEventListener("change", renderWindows);
  $("#reload-thresholds").addEventListener("click", () => { state.lastReload = reloadThresholds(); });
}

// The page's own end-to-end check (`?selftest=1&token=T`): list, compare two runs, open the
// WFO run, draw the heatmap, press "Load thresholds", then count what was drawn.
async function selftest(params) {
  const verdict = { loaded: true, steps: [] };
  const step = async (name, f) => {
    try {
      const v = await f();
      verdict.steps.push({ name, ok: true });
      return v;
    } catch (e) {
      verdict.steps.push({ name, ok: false, error: String(e && e.message ? e.message : e) });
      return null;
    }
  };
  if (params.get("token")) sessionStorage.setItem(TOKEN_KEY, params.get("token"));
  await step("health", loadHealth);
  await step("list", loadRuns);
  verdict.runs_listed = state.runs.length;
  const plain = state.runs.filter((r) => r.verb !== "wfo").map((r) => r.id);
  const two = (plain.length >= 2 ? plain : state.runs.map((r) => r.id)).slice(0, 2);
  for (const id of two) {
    const box = document.querySelector(`#runs-table input[data-id="${CSS.escape(id)}"]`);
    if (box) { box.checked = true; box.dispatchEvent(new Event("change")); }
  }
  await step("compare", () => compareSelected());
  // Both ids must be on screen (the legend) and head a column of the metrics table.
  const legend = $("#compare-legend").textContent;
  const columns = [...document.querySelectorAll("#compare-table thead th[data-id]")].map((t) => t.getAttribute("data-id"));
  verdict.compared = two.filter((id) => legend.includes(id) && columns.includes(id));
  const wfoId = params.get("wfo") || (state.runs.find((r) => r.verb === "wfo") || {}).id;
  if (wfoId) await step("open wfo run", () => openRun(wfoId));
  else verdict.steps.push({ name: "open wfo run", ok: false, error: "no wfo run listed" });
  verdict.wfo_windows = wfo ? wfo.rows.length : 0;
  await step("correlation", loadCorrelation);
  $("#reload-thresholds").click();
  verdict.reload = await state.lastReload;
  await new Promise((r) => setTimeout(r, 300));
  const canvases = [...document.querySelectorAll("canvas")];
  verdict.canvases = canvases.length;
  verdict.non_empty_canvases = canvases.filter((c) => {
    if (!c.width || !c.height) return false;
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  }).length;
  verdict.wfo_bars = document.querySelectorAll("#wfo-chart svg rect.bar").length;
  verdict.heatmap_cells = document.querySelectorAll("#corr-heatmap svg rect.cell").length;
  verdict.errors = pageErrors.slice();
  verdict.ok = verdict.steps.every((s) => s.ok) && verdict.errors.length === 0 && verdict.non_empty_canvases > 0 &&
    verdict.compared.length === 2 && verdict.reload && verdict.reload.ok;
  const pre = $("#selftest");
  pre.textContent = JSON.stringify(verdict);
  pre.setAttribute("data-done", "1");
}

document.addEventListener("DOMContentLoaded", () => {
  wire();
  const params = new URLSearchParams(location.search);
  if (params.get("selftest") === "1") {
    selftest(params);
    return;
  }
  loadHealth();
  loadRuns();
  loadCorrelation().catch((e) => { $("#corr-heatmap").textContent = e.message; });
  setInterval(loadHealth, 10000);
});
