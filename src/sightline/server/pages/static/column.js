// The column page: reference vs window distribution, the statistic over time, quality counts.
import { api, count, el, emptyChart, main, num, palette, plot, rangeOf, showError, time } from "./common.js";
import { level, line, plotText } from "./charts.js";

const model = main.dataset.model;
const version = main.dataset.version;
const column = main.dataset.column;
const until = new URLSearchParams(window.location.search).get("until");
const base = "/api/v1/models/" + encodeURIComponent(model) + "/versions/" + encodeURIComponent(version);
let drawn = null;

function labels(bins) {
  if (bins.kind === "categorical") return bins.categories.map(plotText);
  const e = bins.edges || [];
  if (!e.length) return ["all"];
  return [`< ${num(e[0])}`, ...e.slice(1).map((x, i) => `${num(e[i])} – ${num(x)}`), `≥ ${num(e[e.length - 1])}`];
}

function shares(counts) {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total ? c / total : 0));
}

function drawDistribution(data) {
  const c = palette();
  document.getElementById("window-text").textContent = data.window_start
    ? "window " + time(data.window_start) + " – " + time(data.window_end) : "(no window yet)";
  const traces = [];
  if (data.reference && data.reference.counts && data.reference.counts.length) {
    traces.push({ type: "bar", name: "reference", x: labels(data.reference), y: shares(data.reference.counts),
      marker: { color: c.muted }, customdata: data.reference.counts, hovertemplate: "%{x}<br>%{y:.1%} (%{customdata})" });
  }
  if (data.window && data.window.counts && data.window.counts.length) {
    traces.push({ type: "bar", name: "window", x: labels(data.window), y: shares(data.window.counts),
      marker: { color: c.accent }, customdata: data.window.counts, hovertemplate: "%{x}<br>%{y:.1%} (%{customdata})" });
  }
  const node = document.getElementById("chart-distribution");
  node.dataset.traces = traces.map((t) => t.name).join(",");
  if (!traces.length) emptyChart("chart-distribution", "This column has no binned distribution.");
  else plot("chart-distribution", traces, { barmode: "group", yaxis: { tickformat: ".0%" } });
  const rows = [["rows", "count"], ["missing", "missing"], ["infinite", "infinite"], ["invalid type", "invalid"]];
  const ref = (data.reference || {}).quality || {};
  const win = (data.window || {}).quality || {};
  document.querySelector("#counts tbody").replaceChildren(...rows.map(([label, k]) => el("tr", {},
    el("td", {}, label), el("td", { class: "num" }, count(ref[k])), el("td", { class: "num" }, count(win[k])))));
}

function drawStatistic(data) {
  const c = palette();
  const drift = Object.keys(data.series);
  if (!drift.length) {
    emptyChart("chart-statistic", "No drift rows for this column in the last 24 h.");
    return;
  }
  const traces = [];
  for (const metric of drift) {
    const s = data.series[metric];
    traces.push(line(s, metric, c.accent));
    const upper = s.upper.filter((u) => u !== null);
    if (upper.length) traces.push(level(s.t, upper[upper.length - 1], "threshold", c.bad));
    const drifted = s.t.map((t, i) => i).filter((i) => s.alert[i]);
    traces.push({ type: "scatter", mode: "markers", name: "drifted", x: drifted.map((i) => s.t[i]),
      y: drifted.map((i) => s.value[i]), marker: { color: c.bad, size: 9, symbol: "x" } });
  }
  plot("chart-statistic", traces, { yaxis: { rangemode: "tozero" } });
}

async function load() {
  const span = rangeOf("24h");
  try {
    drawn = await api(base + "/distribution", { column, until });
    drawDistribution(drawn);
    drawStatistic(await api(base + "/statistic", { column, ...span }));
    showError(null);
  } catch (error) {
    showError(error);
  }
}

window.addEventListener("themechange", () => { if (drawn) drawDistribution(drawn); load(); });
load();
