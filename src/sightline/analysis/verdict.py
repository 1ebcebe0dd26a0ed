"""Which kind of finding a metric row is, and the verdict of a set of rows over the kinds
of alert asked for: the one rule that ``sightline check`` gates on and that the report's
headline states.

A result fails a gate when:

* ``drift``: a data-set row alerts (``drift_share``: at least the allowed share of columns
  drifted; or the multivariate ``reconstruction_error``);
* ``performance``: any model-performance row alerts (realized or estimated, outside the
  band of the reference);
* ``quality``: any data-quality row alerts (missing values, infinities, type violations,
  out-of-range values, unseen categories, a column gone constant).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from sightline.analysis.methods import ALL_METHODS
from sightline.analysis.quality import QUALITY_METRICS
from sightline.analysis.rows import MetricRow, encode_row
from sightline.errors import InvalidInputError

Gate = Literal["drift", "performance", "quality"]
#: The kinds of alert a verdict covers, in the order they are reported.
GATES: Final[tuple[Gate, ...]] = ("drift", "performance", "quality")
RowKind = Literal["drift", "dataset", "quality", "performance", "confusion", "other"]

#: Data-set rows: share and count of drifted columns, multivariate drift.
DATASET_METRICS: Final = frozenset({"drift_share", "drifted_columns", "reconstruction_error"})
#: Performance rows that name the target column (all other performance rows have column "").
_PERFORMANCE_WITH_COLUMN: Final = frozenset({"label_coverage"})
_CONFUSION: Final = re.compile(r"^confusion\[.*\]$", re.DOTALL)
_PER_COLUMN: Final[Mapping[str, RowKind]] = {
    **dict.fromkeys(QUALITY_METRICS, "quality"),
    **dict.fromkeys(ALL_METHODS, "drift"),
}
_GATE_OF: Final[Mapping[RowKind, Gate]] = {
    "dataset": "drift",
    "performance": "performance",
    "quality": "quality",
}


def row_kind(row: MetricRow) -> RowKind:
    """What a row is about: a column's ``drift`` or ``quality``, the data set's drift
    (``dataset``), the model's ``performance``, a ``confusion`` matrix cell, or ``other``.

    >>> row_kind(MetricRow(metric="psi", value=0.1, column="age"))
    'drift'
    >>> row_kind(MetricRow(metric="accuracy", value=0.9))
    'performance'
    """
    metric = row.metric
    kind: RowKind
    if _CONFUSION.match(metric):
        kind = "confusion"
    elif metric in _PERFORMANCE_WITH_COLUMN:
        kind = "performance"
    elif row.column:
        kind = _PER_COLUMN.get(metric, "other")
    elif metric in DATASET_METRICS:
        kind = "dataset"
    elif metric in ALL_METHODS or metric in QUALITY_METRICS:
        kind = "other"  # a per-column statistic without a column: show it, do not guess
    else:
        kind = "performance"
    return kind


def parse_gates(text: str) -> tuple[Gate, ...]:
    """The gates of a ``--fail-on`` value such as ``drift,performance``.

    >>> parse_gates("quality,drift")
    ('drift', 'quality')
    """
    wanted = {part.strip() for part in text.split(",") if part.strip()}
    unknown = wanted - set(GATES)
    if unknown or not wanted:
        raise InvalidInputError(
            f"fail-on takes a comma-separated list of {', '.join(GATES)}, got {text!r}",
            field="fail-on",
        )
    return tuple(g for g in GATES if g in wanted)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The alerting rows per gate, and which of the checked gates failed.

    Examples
    --------
    >>> v = verdict([MetricRow(metric="accuracy", value=0.8, lower=0.9, alert=True)])
    >>> v.failed, v.passed
    (('performance',), False)
    >>> verdict(v.alerts["performance"], ["performance", "quality"]).headline
    'Performance dropped: 1 alert (accuracy)'
    """

    checked: tuple[Gate, ...]
    alerts: Mapping[Gate, tuple[MetricRow, ...]]
    drift_share: MetricRow | None
    drifted: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[Gate, ...]:
        """The checked gates with at least one alert."""
        return tuple(g for g in self.checked if self.alerts[g])

    @property
    def passed(self) -> bool:
        """True when no checked gate alerted."""
        return not self.failed

    @property
    def headline(self) -> str:
        """One line per kind of alert found (or why none): what a reader sees first."""
        parts = []
        share = self.drift_share
        if "drift" in self.checked:
            drifted = f"; drifted: {_listed(self.drifted)}" if self.drifted else ""
            if self.alerts["drift"]:
                parts.append(f"Data set drifted{_share_text(share)}{drifted}")
            elif share is not None and share.is_computed:
                parts.append(f"Data set not drifted{_share_text(share)}{drifted}")
            elif share is not None:
                parts.append("Data set drift not computed")
            else:
                parts.append("No data set drift verdict in this result")
        titles: tuple[tuple[Gate, str], ...] = (
            ("performance", "Performance dropped"),
            ("quality", "Data quality"),
        )
        for gate, title in titles:
            found = self.alerts[gate]
            if gate in self.checked and found:
                alerts = f"{len(found)} alert{'' if len(found) == 1 else 's'}"
                parts.append(f"{title}: {alerts} ({_listed(sorted({_name(r) for r in found}))})")
        return "; ".join(parts) or "No alerts"

    def to_dict(self) -> dict[str, Any]:
        """``{"passed", "failed", "checked", "headline", "drifted", "alerts": {gate: [rows]}}``,
        the rows through the codec."""
        return {
            "passed": self.passed,
            "failed": list(self.failed),
            "checked": list(self.checked),
            "headline": self.headline,
            "drifted": list(self.drifted),
            "alerts": {g: [encode_row(r) for r in self.alerts[g]] for g in self.checked},
        }


def verdict(rows: Iterable[MetricRow], fail_on: Sequence[Gate] = GATES) -> Verdict:
    """The :class:`Verdict` of ``rows`` over the gates ``fail_on`` (all three by default)."""
    found: dict[Gate, list[MetricRow]] = {g: [] for g in GATES}
    share = None
    drifted = set()
    for row in rows:
        kind = row_kind(row)
        if row.metric == "drift_share" and kind == "dataset":
            share = row
        if kind == "drift" and row.alert:
            drifted.add(row.column)
        gate = _GATE_OF.get(kind)
        if gate is not None and row.alert and row.is_computed:
            found[gate].append(row)
    return Verdict(
        checked=tuple(g for g in GATES if g in fail_on),
        alerts={g: tuple(v) for g, v in found.items()},
        drift_share=share,
        drifted=tuple(sorted(drifted)),
    )


def _share_text(share: MetricRow | None) -> str:
    if share is None or not share.is_computed:
        return ""
    return f": {share.value:.1%} of columns (limit {share.upper:.1%})"


def _listed(names: Sequence[str], most: int = 8) -> str:
    """``a, b, c`` or, beyond ``most`` names, ``a, ..., h and 4 more``."""
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


def _name(row: MetricRow) -> str:
    return f"{row.column}: {row.metric}" if row.column else row.metric


__all__ = ["GATES", "Gate", "RowKind", "Verdict", "parse_gates", "row_kind", "verdict"]
