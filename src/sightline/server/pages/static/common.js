// What every page shares: calls of the JSON API, safe DOM building, formats, theme, charts.
// Names from the collector are only ever set as text (textContent), never as HTML.

export const main = document.getElementById("main");

export class ApiError extends Error {}

function toLogin() {
  const here = window.location.pathname + window.location.search;
  window.location.assign("/login?next=" + encodeURIComponent(here));
}

async function answer(response) {
  if (response.status === 401) {
    toLogin();
    throw new ApiError("the session ended; log in again");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(body.error || response.status + " " + response.statusText);
  }
  return body;
}

/** GET a JSON endpoint with query parameters (the session cookie authenticates). */
export async function api(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) query.set(name, value);
  }
  const url = path + (query.toString() ? "?" + query.toString() : "");
  return answer(await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } }));
}

/** A call that changes something: JSON body, and the page header the collector requires. */
export async function send(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-sightline-page": "1" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answer(response);
}

/** An element with attributes (props) and children (nodes, or strings set as text). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function num(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(2);
  return Number(value.toPrecision(digits)).toLocaleString();
}

export function count(value) {
  return value === null || value === undefined ? "–" : Math.round(value).toLocaleString();
}

export function percent(share, digits = 2) {
  return share === null || share === undefined ? "–" : (100 * share).toFixed(digits) + " %";
}

/** A time in the viewer's own zone. */
export function time(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export function showError(error) {
  const box = document.getElementById("error");
  if (!box) return;
  box.hidden = !error;
  box.textContent = error ? String(error.message || error) : "";
}

export function modelUrl(model, version) {
  return "/models/" + encodeURIComponent(model) + "/versions/" + encodeURIComponent(version);
}

/** The column page; with ``until``, of the newest window before that time. */
export function columnUrl(model, version, column, until) {
  const query = new URLSearchParams({ name: column });
  if (until) query.set("until", until);
  return modelUrl(model, version) + "/column?" + query.toString();
}

export const RANGES = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };

/** since/until (ISO, UTC) of a named range ending now. */
export function rangeOf(name) {
  const until = new Date();
  const since = new Date(until.getTime() - RANGES[name]);
  return { since: since.toISOString(), until: until.toISOString() };
}

/** Buttons with data-<attr> in a group: one pressed at a time; calls onChoose(value). */
export function choices(selector, attr, onChoose) {
  const buttons = Array.from(document.querySelectorAll(selector));
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      onChoose(button.dataset[attr]);
    });
  }
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Chart colours of the current theme. */
export function palette() {
  return { fg: cssVar("--fg"), muted: cssVar("--muted"), line: cssVar("--line"), card: cssVar("--card"),
    accent: cssVar("--accent"), bad: cssVar("--bad"), good: cssVar("--good"), focus: cssVar("--focus") };
}

/** Draw (or redraw) a Plotly chart in the element of ``id``, in the theme's colours. */
export function plot(id, traces, layout = {}) {
  const c = palette();
  const axis = { gridcolor: c.line, zerolinecolor: c.line, linecolor: c.line, automargin: true };
  const base = {
    paper_bgcolor: c.card, plot_bgcolor: c.card, font: { color: c.fg, size: 12 },
    margin: { l: 50, r: 20, t: 10, b: 40 }, showlegend: true,
    legend: { orientation: "h", y: -0.2 }, xaxis: { ...axis, ...(layout.xaxis || {}) },
    yaxis: { ...axis, ...(layout.yaxis || {}) },
  };
  const node = document.getElementById(id);
  const full = { ...base, ...layout, xaxis: base.xaxis, yaxis: base.yaxis };
  if (layout.yaxis2) full.yaxis2 = { ...axis, ...layout.yaxis2 };
  return window.Plotly.react(node, traces, full, { displaylogo: false, displayModeBar: false, responsive: true });
}

/** A message inside an empty chart. */
export function emptyChart(id, text) {
  const node = document.getElementById(id);
  if (window.Plotly) window.Plotly.purge(node);
  node.replaceChildren(el("p", { class: "muted", text }));
}

function setupTheme() {
  const button = document.getElementById("theme-toggle");
  if (!button) return;
  const dark = () => {
    const chosen = document.documentElement.getAttribute("data-theme");
    return chosen ? chosen === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  };
  const show = () => {
    button.setAttribute("aria-pressed", String(dark()));
    button.textContent = dark() ? "Light theme" : "Dark theme";
  };
  button.addEventListener("click", () => {
    const next = dark() ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try { window.localStorage.setItem("sightline-theme", next); } catch (e) { /* private mode */ }
    show();
    window.dispatchEvent(new Event("themechange"));
  });
  show();
}

function setupClock() {
  const clock = document.getElementById("clock");
  if (clock) clock.textContent = "times in " + Intl.DateTimeFormat().resolvedOptions().timeZone;
}

setupTheme();
setupClock();
