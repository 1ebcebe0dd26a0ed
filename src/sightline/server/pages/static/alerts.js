// The alerts page: firing, pending and resolved alerts with their evidence; silence (admin);
// the history of their transitions.
import { api, choices, el, main, modelUrl, send, showError, time } from "./common.js";
import { evidence } from "./evidence.js";
import { historyRows } from "./history.js";

const admin = main.dataset.scope === "admin";
let state = "";

function silenceButton(alert) {
  if (!admin || alert.state === "resolved") return "";
  return el("button", {
    type: "button",
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        const made = await send("POST", "/api/v1/silences", {
          matchers: { ...alert.labels, alertname: undefined },
          duration: "1h",
          comment: "silenced from the dashboard",
        });
        button.replaceWith(el("span", { class: "muted" }, "silenced until " + time(made.ends_at)));
      } catch (error) {
        button.disabled = false;
        showError(error);
      }
    },
  }, "Silence 1 h");
}

function render(data) {
  document.getElementById("empty").hidden = data.alerts.length > 0;
  document.querySelector("#alerts tbody").replaceChildren(...data.alerts.map((a) => el("tr", { "data-state": a.state },
    el("td", {}, a.rule),
    el("td", {}, a.model ? el("a", { href: modelUrl(a.model, a.version || "") }, a.model) : "–"),
    el("td", {}, a.version || "–"),
    el("td", {}, a.severity || "–"),
    el("td", { class: "state-" + a.state }, a.state),
    el("td", {}, time(a.fired_at || a.active_at)),
    el("td", {}, time(a.resolved_at)),
    el("td", { class: "wrap" }, evidence(a.evidence)),
    el("td", {}, silenceButton(a)))));
}

async function load() {
  try {
    const [current, history] = await Promise.all([
      api("/api/v1/alerts", { state: state || undefined }),
      api("/api/v1/alerts/history", { limit: 200 }),
    ]);
    render(current);
    document.querySelector("#history tbody").replaceChildren(...historyRows(history.transitions, true));
    showError(null);
  } catch (error) {
    showError(error);
  }
}

choices(".ranges button", "state", (value) => { state = value; load(); });
load();
window.setInterval(load, 10000);
