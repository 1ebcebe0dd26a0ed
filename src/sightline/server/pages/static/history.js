// The alert history: one table row per transition (pending, firing, resolved), newest
// first, with its time and the evidence the alert had then.
import { el, modelUrl, time } from "./common.js";
import { evidence } from "./evidence.js";

export function historyRows(transitions, withModel) {
  if (!transitions.length) {
    return [el("tr", {}, el("td", { class: "muted", colspan: withModel ? 6 : 4 }, "No transition yet."))];
  }
  return transitions.map((t) => el("tr", { "data-state": t.state, "data-rule": t.rule },
    el("td", {}, time(t.at)),
    el("td", {}, t.rule),
    ...(withModel ? [
      el("td", {}, t.model ? el("a", { href: modelUrl(t.model, t.version || "") }, t.model) : "–"),
      el("td", {}, t.version || "–"),
    ] : []),
    el("td", { class: "state-" + t.state }, "→ " + t.state),
    el("td", { class: "wrap" }, (t.summary ? t.summary + " · " : "") + evidence(t.evidence))));
}
