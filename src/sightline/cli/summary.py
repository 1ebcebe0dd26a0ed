"""A readable summary table of a profile (``sightline show``)."""

from __future__ import annotations

from typing import Any

from sightline.profile.dataset import Profile


def profile_table(profile: Profile) -> str:
    """The profile's header and one line per column, as plain text.

    Examples
    --------
    >>> import numpy as np
    >>> from sightline.profile.schema import Column, Schema
    >>> p = Profile.zero(Schema((Column("x"),)), model="m").update({"x": np.array([1.0, 3.0])})
    >>> print(profile_table(p))  # doctest: +ELLIPSIS
    model m, version -, 2 rows, instances -, window -
    column  kind     count  missing  distinct  mean  std    min  p50  max
    x       numeric  2      0.0%     2         2     1.414  1    1    3
    """
    d = profile.to_dict()
    window = "-"
    if d["window_start"] or d["window_end"]:
        window = f"{d['window_start']} .. {d['window_end']}"
    header = (
        f"model {d['model'] or '-'}, version {d['version'] or '-'}, {d['n_rows']:,} rows, "
        f"instances {', '.join(d['instance_ids']) or '-'}, window {window}"
    )
    if d["n_predictions"]:
        lat = d["latency_ms"]
        header += (
            f"\npredictions {d['n_predictions']:,}, errors {d['n_errors']:,}, latency ms "
            f"p50 {_num(lat['p50'])} p95 {_num(lat['p95'])} p99 {_num(lat['p99'])}"
        )
    titles = ["column", "kind", "count", "missing", "distinct", "mean", "std", "min", "p50", "max"]
    lines = [titles] + [_line(name, col) for name, col in d["columns"].items()]
    widths = [max(len(row[i]) for row in lines) for i in range(len(titles))]
    table = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in lines
    ]
    return "\n".join([header, *table])


def _line(name: str, col: dict[str, Any]) -> list[str]:
    share = col.get("missing_share")
    missing = "-" if share is None else f"{share:.1%}"
    common = [name, col["kind"], f"{col['count']:,}", missing, _distinct(col)]
    if col["kind"] == "numeric":
        stats = [col["mean"], col["std"], col["min"], col["quantiles"]["p50"], col["max"]]
        return common + [_num(v) for v in stats]
    top = col.get("top") or []
    most = f"top: {top[0]['value']} ({top[0]['count']:,})" if top else ""
    return [*common, most, "", "", "", ""]


def _distinct(col: dict[str, Any]) -> str:
    """The HLL estimate (capped at the values seen) and its bounds: ``7,500 (6,844-7,500)``;
    exact when the bounds meet."""
    low, high = col["distinct_bounds"]
    estimate = f"{col['distinct']:,.0f}"
    if round(low) == round(high):
        return estimate
    return f"{estimate} ({low:,.0f}-{high:,.0f})"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


__all__ = ["profile_table"]
