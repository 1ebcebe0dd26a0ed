// Chart helpers shared by the model and column pages.

/** Text for Plotly, which reads a little HTML in labels: names are escaped to stay text. */
export function plotText(value) {
  return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A line trace of one series (``t``, ``value`` arrays from the API). */
export function line(series, name, color, extra = {}) {
  return { x: series.t, y: series.value, name: plotText(name), type: "scatter", mode: "lines+markers",
    marker: { size: 4 }, line: { color, width: 2 }, ...extra };
}

/** The band between a series' lower and upper bounds, drawn under its line. */
export function band(series, name, color) {
  const x = [...series.t, ...[...series.t].reverse()];
  const y = [...series.upper, ...[...series.lower].reverse()];
  return { x, y, name: plotText(name), type: "scatter", mode: "lines", fill: "toself",
    fillcolor: color, line: { width: 0 }, hoverinfo: "skip", opacity: 0.18 };
}

/** A dashed horizontal line at ``y`` over the x range of ``t``. */
export function level(t, y, name, color) {
  return { x: [t[0], t[t.length - 1]], y: [y, y], name: plotText(name), type: "scatter", mode: "lines",
    line: { color, width: 1.5, dash: "dash" }, hoverinfo: "name+y" };
}
