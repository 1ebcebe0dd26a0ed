// The overview: one row per model version, refreshed every few seconds without a reload.
import { api, count, el, modelUrl, num, percent, showError, time } from "./common.js";

const REFRESH_MS = 5000;
const body = document.querySelector("#overview tbody");
let sortKey = "model";
let ascending = true;
let last = null;

const KEYS = {
  p50: (r) => r.latency_ms.p50,
  p95: (r) => r.latency_ms.p95,
  p99: (r) => r.latency_ms.p99,
  drifted: (r) => r.drifted_columns.length,
  versions_loaded: (r) => r.versions_loaded.join(","),
  realized: (r) => (r.realized ? r.realized.value : null),
  estimated: (r) => (r.estimated ? r.estimated.value : null),
};

function value(row, key) {
  return KEYS[key] ? KEYS[key](row) : row[key];
}

function compare(a, b) {
  const x = value(a, sortKey);
  const y = value(b, sortKey);
  if (x === y) return 0;
  if (x === null || x === undefined) return 1; // blanks last either way
  if (y === null || y === undefined) return -1;
  const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
  return ascending ? order : -order;
}

function cell(text, bad, extra = {}) {
  return el("td", { class: bad ? "bad num" : "num", title: extra.title }, text);
}

function performance(found, metric) {
  if (!found || found.value === null) return cell("–", false);
  const band = found.lower !== null && found.upper !== null
    ? "expected " + num(found.lower) + " – " + num(found.upper) : "";
  return cell(num(found.value), found.alert, { title: [metric, band].filter(Boolean).join(", ") });
}

function render(data) {
  last = data;
  const objective = data.objective_ms;
  document.getElementById("objective").textContent = num(objective);
  document.getElementById("updated").textContent = "updated " + time(data.generated_at);
  document.getElementById("empty").hidden = data.versions.length > 0;
  const rows = [...data.versions].sort(compare);
  body.replaceChildren(...rows.map((r) => {
    const link = el("a", { href: modelUrl(r.model, r.version) }, r.model);
    const drifted = r.drifted_columns;
    const driftText = drifted.length
      ? drifted.length + ": " + drifted.slice(0, 3).join(", ") + (drifted.length > 3 ? " …" : "") : "0";
    const slow = (v) => v !== null && v > objective;
    const low = (v) => v !== null && v !== undefined && v < data.limits.uptime_percent;
    return el("tr", { "data-model": r.model, "data-version": r.version },
      el("td", {}, link),
      el("td", {}, r.version),
      cell(count(r.live_instances), r.live_instances === 0),
      cell(r.uptime_percent_24h === null ? "–" : r.uptime_percent_24h.toFixed(2) + " %", low(r.uptime_percent_24h)),
      cell(r.uptime_percent_30d === null ? "–" : r.uptime_percent_30d.toFixed(2) + " %", low(r.uptime_percent_30d)),
      cell(count(r.predictions), false),
      el("td", {}, r.versions_loaded.join(", ") || "–"),
      cell(num(r.latency_ms.p50), slow(r.latency_ms.p50)),
      cell(num(r.latency_ms.p95), slow(r.latency_ms.p95)),
      cell(num(r.latency_ms.p99), slow(r.latency_ms.p99)),
      cell(percent(r.error_rate), r.error_rate !== null && r.error_rate > data.limits.error_rate),
      el("td", { class: drifted.length ? "bad drifted" : "drifted", title: drifted.join(", ") }, driftText),
      performance(r.realized, r.performance_metric),
      performance(r.estimated, r.performance_metric && "estimated " + r.performance_metric),
      cell(count(r.firing_alerts), r.firing_alerts > 0),
    );
  }));
}

async function refresh() {
  try {
    render(await api("/api/v1/overview"));
    showError(null);
  } catch (error) {
    showError(error);
  }
}

for (const button of document.querySelectorAll("#overview thead button")) {
  button.addEventListener("click", () => {
    const key = button.dataset.sort;
    ascending = key === sortKey ? !ascending : true;
    sortKey = key;
    for (const other of document.querySelectorAll("#overview thead button")) other.removeAttribute("aria-sort");
    button.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    if (last) render(last);
  });
}

refresh();
window.setInterval(refresh, REFRESH_MS);
