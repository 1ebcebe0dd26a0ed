// An alert's evidence as one line of text: its scalar fields, and the rows it cites as
// "metric value" (the full rows stay in the API's answer).
import { num, time } from "./common.js";

const ISO = /^\d{4}-\d{2}-\d{2}T/;

function scalar(value) {
  if (typeof value === "number") return num(value);
  if (typeof value === "string" && ISO.test(value)) return time(value);
  return String(value);
}

function rows(list) {
  const named = list.filter((r) => r && typeof r === "object" && "metric" in r);
  const shown = named.slice(0, 3).map((r) => (r.column ? r.column + " " : "") + r.metric + " " + num(r.value));
  return shown.join(", ") + (named.length > 3 ? ", … (" + named.length + ")" : "");
}

export function evidence(found) {
  const parts = [];
  for (const [key, value] of Object.entries(found || {})) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      const text = rows(value);
      if (text) parts.push(key.replace(/_/g, " ") + ": " + text);
    } else if (typeof value !== "object") {
      parts.push(key.replace(/_/g, " ") + ": " + scalar(value));
    }
  }
  return parts.join(" · ") || "–";
}
