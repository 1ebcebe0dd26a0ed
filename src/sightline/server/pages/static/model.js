// The model page: health and performance series, the drift heatmap, quality and alerts.
import { api, choices, columnUrl, count, el, emptyChart, main, num, palette, percent, plot, rangeOf, showError, time } from "./common.js";
import { band, level, line, plotText } from "./charts.js";
import { evidence } from "./evidence.js";
import { historyRows } from "./history.js";

// The generation health rows, as the table shows them: label and how to print the value.
const GENERATION = [
  ["generations", "generations", count],
  ["tokens_in_per_s", "tokens in/s", (v) => num(v, 4)],
  ["tokens_out_per_s", "tokens out/s", (v) => num(v, 4)],
  ["first_token_p50_ms", "first token p50 (ms)", count],
  ["first_token_p95_ms", "first token p95 (ms)", count],
  ["latency_per_output_token_ms", "latency per output token (ms)", (v) => num(v, 3)],
  ["error_rate", "error rate", (v) => percent(v)],
  ["empty_output_rate", "empty output rate", (v) => percent(v)],
  ["models_loaded", "models loaded", count],
];

const model = main.dataset.model;
const version = main.dataset.version;
const base = "/api/v1/models/" + encodeURIComponent(model) + "/versions/" + encodeURIComponent(version);
let range = "24h";
let lastHeatmap = null;
let lastSeries = null;
// What the throughput counts: generations once the generation rows show a generative service.
let unit = "predictions/s";

function drawSeries(data) {
  lastSeries = data;
  const s = data.series;
  const c = palette();
  document.getElementById("throughput-unit").textContent = unit;
  if (s.throughput) plot("chart-throughput", [line(s.throughput, unit, c.accent)], { showlegend: false });
  else emptyChart("chart-throughput", "No health rows in this range yet.");
  const latency = [["latency_p50_ms", "p50", c.good], ["latency_p95_ms", "p95", c.accent], ["latency_p99_ms", "p99", c.bad]]
    .filter(([m]) => s[m]).map(([m, name, color]) => line(s[m], name, color));
  if (latency.length) {
    latency.push(level(latency[0].x, 50, "objective 50 ms", c.muted));
    plot("chart-latency", latency, { yaxis: { rangemode: "tozero" } });
  } else emptyChart("chart-latency", "No latency recorded in this range.");
  if (s.error_rate) {
    const top = Math.max(0.01, 1.2 * Math.max(...s.error_rate.value.filter((v) => v !== null)));
    plot("chart-errors", [line(s.error_rate, "error rate", c.bad)], { showlegend: false, yaxis: { tickformat: ".1%", range: [0, top] } });
  }
  else emptyChart("chart-errors", "No errors recorded in this range.");
  drawPerformance(s, c);
}

function drawPerformance(s, c) {
  const metric = lastSeries.performance_metric;
  if (!metric) {
    emptyChart("chart-performance", "No performance rows yet (they need predictions with scores or labels).");
    return;
  }
  const traces = [];
  const realized = s[metric];
  const estimated = s["estimated_" + metric];
  if (estimated) {
    if (estimated.lower.some((v) => v !== null)) traces.push(band(estimated, "estimated band", c.focus));
    traces.push(line(estimated, "estimated " + metric, c.focus, { line: { color: c.focus, width: 2, dash: "dot" } }));
  }
  if (realized) {
    if (realized.lower.some((v) => v !== null)) traces.push(band(realized, "expected band (reference)", c.accent));
    traces.push(line(realized, "realized " + metric, c.accent));
  }
  if (s.label_coverage) {
    traces.push(line(s.label_coverage, "label coverage", c.muted, { yaxis: "y2", line: { color: c.muted, width: 1 } }));
  }
  plot("chart-performance", traces, {
    yaxis: { title: { text: plotText(metric) } },
    yaxis2: { overlaying: "y", side: "right", range: [0, 1.05], tickformat: ".0%", showgrid: false, title: { text: "coverage" } },
  });
}

function shortTime(iso, step) {
  const options = step >= 86400 ? { month: "short", day: "numeric" }
    : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
  return new Date(iso).toLocaleString(undefined, options);
}

function bucketText(seconds) {
  if (seconds % 86400 === 0) return seconds / 86400 + " d";
  if (seconds % 3600 === 0) return seconds / 3600 + " h";
  if (seconds % 60 === 0) return seconds / 60 + " min";
  return seconds + " s";
}

function drawHeatmap(data) {
  lastHeatmap = data;
  const links = document.getElementById("column-links");
  if (!data.columns.length) {
    emptyChart("chart-heatmap", "No drift rows in this range yet.");
    links.replaceChildren();
    return;
  }
  const times = data.times;
  // Buckets as categories labelled in the viewer's zone: one cell each, however few.
  const labels = times.map((t) => shortTime(t, data.step_seconds));
  const z = data.columns.map(() => times.map(() => null));
  const text = data.columns.map(() => times.map(() => ""));
  const drifted = new Set();
  const marks = { x: [], y: [] };
  const cells = data.cells;
  for (let k = 0; k < cells.column.length; k++) {
    const i = cells.column[k];
    const j = cells.time[k];
    const value = cells.value[k];
    const upper = cells.upper[k];
    const name = data.columns[i];
    // A share of the threshold; a test without one (embedding_drift) shows 0 or, drifted, 2.
    z[i][j] = value !== null && upper ? value / upper : (cells.alert[k] ? 2 : 0);
    text[i][j] = plotText(name) + "<br>" + plotText(data.metrics[cells.metric[k]]) + " " + num(value) +
      " (threshold " + num(upper) + ")" + (cells.alert[k] ? "<br>drifted" : "");
    if (cells.alert[k]) {
      drifted.add(name);
      marks.x.push(labels[j]);
      marks.y.push(i);
    }
  }
  const c = palette();
  const traces = [
    { type: "heatmap", x: labels, y: data.columns.map((_, i) => i), z, text, hoverinfo: "text+x",
      zmin: 0, zmax: 2, colorscale: [[0, "#2a9d8f"], [0.5, "#e9c46a"], [1, "#c62828"]],
      colorbar: { title: { text: "÷ threshold" }, thickness: 12 }, xgap: 1, ygap: 1, name: "drift" },
    { type: "scatter", mode: "markers", x: marks.x, y: marks.y, name: "drifted", hoverinfo: "skip",
      marker: { symbol: "x-thin-open", size: 9, color: c.fg, line: { width: 2 } } },
  ];
  const node = document.getElementById("chart-heatmap");
  node.style.height = Math.max(260, 60 + 22 * data.columns.length) + "px";
  plot("chart-heatmap", traces, {
    margin: { l: 140, r: 20, t: 10, b: 40 },
    xaxis: { type: "category", title: { text: "bucket start (" + bucketText(data.step_seconds) + " each)" } },
    yaxis: { tickmode: "array", tickvals: data.columns.map((_, i) => i), ticktext: data.columns.map(plotText), autorange: "reversed" },
    showlegend: false,
  }).then(() => {
    node.removeAllListeners && node.removeAllListeners("plotly_click");
    node.on("plotly_click", (event) => {
      const point = event.points.find((p) => p.curveNumber === 0);
      if (!point) return;
      const [i, j] = point.pointNumber;
      const end = new Date(new Date(times[j]).getTime() + 1000 * data.step_seconds);
      window.location.assign(columnUrl(model, version, data.columns[i], end.toISOString()));
    });
  });
  node.dataset.drifted = JSON.stringify([...drifted]);
  links.replaceChildren(...data.columns.map((name) => el("li", {},
    el("a", { href: columnUrl(model, version, name), class: drifted.has(name) ? "drifted" : null,
      "data-column": name }, name + (drifted.has(name) ? " (drifted)" : "")))));
}

function drawQuality(data) {
  document.getElementById("quality-window").textContent = data.window_start ? "window of " + time(data.window_start) : "";
  const metrics = [...new Set(data.rows.map((r) => r.metric))];
  const columns = [...new Set(data.rows.map((r) => r.column))];
  const table = document.getElementById("quality");
  table.tHead.replaceChildren(el("tr", {}, el("th", { scope: "col" }, "Column"),
    ...metrics.map((m) => el("th", { scope: "col" }, m.replace(/_/g, " ")))));
  const found = new Map(data.rows.map((r) => [r.column + "\u0000" + r.metric, r]));
  table.tBodies[0].replaceChildren(...(columns.length ? columns.map((name) => el("tr", {},
    el("td", {}, el("a", { href: columnUrl(model, version, name) }, name)),
    ...metrics.map((m) => {
      const r = found.get(name + "\u0000" + m);
      return el("td", { class: r && r.alert ? "bad" : null, title: r && r.upper !== null ? "limit " + num(r.upper) : null },
        r ? num(r.value) : "–");
    }))) : [el("tr", {}, el("td", { class: "muted" }, "No quality rows yet."))]));
}

function drawGeneration(data) {
  const counted = data.rows.generations ? "generations/s" : "predictions/s";
  if (counted !== unit) {
    unit = counted;
    if (lastSeries) drawSeries(lastSeries);
  }
  const section = document.getElementById("generation");
  const shown = GENERATION.filter(([m]) => data.rows[m]);
  section.hidden = !shown.length;
  if (!shown.length) return;
  document.getElementById("generation-window").textContent = "window of " + time(data.window_start);
  const table = document.getElementById("generation-table");
  table.tHead.replaceChildren(el("tr", {}, ...shown.map(([, label]) => el("th", { scope: "col" }, label))));
  table.tBodies[0].replaceChildren(el("tr", {}, ...shown.map(([m, , format]) => {
    const r = data.rows[m];
    return el("td", { class: "num" + (r.alert ? " bad" : ""), "data-metric": m }, format(r.value));
  })));
}

function drawAlerts(data) {
  const mine = data.alerts.filter((a) => a.version === version || a.version === "");
  document.querySelector("#alerts tbody").replaceChildren(...(mine.length ? mine.map((a) => el("tr", {},
    el("td", {}, a.rule),
    el("td", { class: "state-" + a.state }, a.state),
    el("td", {}, time(a.resolved_at || a.fired_at || a.active_at)),
    el("td", { class: "wrap" }, evidence(a.evidence)))) : [el("tr", {}, el("td", { class: "muted" }, "No alert for this version."))]));
}

async function load() {
  const span = rangeOf(range);
  document.getElementById("range-text").textContent = time(span.since) + " – " + time(span.until);
  const results = await Promise.allSettled([
    api(base + "/series", span).then(drawSeries),
    api(base + "/heatmap", span).then(drawHeatmap),
    api(base + "/quality").then(drawQuality),
    api(base + "/generation", span).then(drawGeneration),
    api("/api/v1/alerts/history", { model, limit: 200 }).then((h) => {
      const mine = h.transitions.filter((t) => t.version === version || t.version === "");
      document.querySelector("#history tbody").replaceChildren(...historyRows(mine, false));
    }),
    api("/api/v1/alerts", { model }).then(drawAlerts).catch((e) => { if (!/alerting is off/.test(e.message)) throw e; drawAlerts({ alerts: [] }); }),
  ]);
  const failed = results.find((r) => r.status === "rejected");
  showError(failed ? failed.reason : null);
}

choices(".ranges button", "range", (value) => { range = value; load(); });
window.addEventListener("themechange", () => { if (lastSeries) drawSeries(lastSeries); if (lastHeatmap) drawHeatmap(lastHeatmap); });
load();
