"""What the collector shows now, in one progress line, read through :class:`sightline.Client`
(the same answers the dashboard reads).

>>> Snapshot(3, 1200, ("credit_score",), 0.71, True, None, False, 2).line()
'live 3, 1,200 predictions, drifted: credit_score, estimated accuracy 0.710 (alert), \
accuracy -, 2 alerts firing'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sightline.client.client import Client


@dataclass(frozen=True)
class Snapshot:
    """The numbers of a progress line."""

    live: int
    predictions: int
    drifted: tuple[str, ...]
    estimated: float | None
    estimated_alert: bool
    accuracy: float | None
    accuracy_alert: bool
    firing: int

    def line(self) -> str:
        """The snapshot as one line of text."""
        return ", ".join(
            [
                f"live {self.live}",
                f"{self.predictions:,} predictions",
                f"drifted: {', '.join(self.drifted) or 'none'}",
                f"estimated accuracy {_value(self.estimated, self.estimated_alert)}",
                f"accuracy {_value(self.accuracy, self.accuracy_alert)}",
                f"{self.firing} alerts firing",
            ]
        )


def _value(value: float | None, alert: bool) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" + (" (alert)" if alert else "")


def snapshot(client: Client, model: str, window: int) -> Snapshot:
    """Read the health, the newest drift rows, the newest accuracy rows and the firing
    alerts of ``model`` (whose windows last ``window`` seconds)."""
    health = client.health(model)
    drifted = tuple(sorted(r.column for r in client.drift(model).rows if r.column and r.alert))
    since = datetime.now(UTC) - timedelta(seconds=20 * window)
    newest = {}
    for metric in ("estimated_accuracy", "accuracy"):
        rows = client.metrics(model, since=since, metric=metric).rows  # by window_start
        newest[metric] = rows[-1] if rows else None
    est, acc = newest["estimated_accuracy"], newest["accuracy"]
    return Snapshot(
        live=int(health["live_instances"]),
        predictions=int(health["predictions"]),
        drifted=drifted,
        estimated=None if est is None else est.value,
        estimated_alert=bool(est and est.alert),
        accuracy=None if acc is None else acc.value,
        accuracy_alert=bool(acc and acc.alert),
        firing=len(client.alerts(state="firing", model=model)),
    )


def _some(names: list[str], shown: int = 4) -> str:
    """Names, the first ``shown`` of them when there are more.

    >>> _some(["a", "b", "c"], 2), _some([])
    ('3 columns: a, b, ...', 'none')
    """
    if len(names) <= shown:
        return ", ".join(names) or "none"
    return f"{len(names)} columns: {', '.join(names[:shown])}, ..."


def generation_line(client: Client, model: str, window: int) -> str:
    """The progress line of a generative service: live instances, generations, its newest
    output tokens per second and first-token p95, the drifted columns and firing alerts."""
    health = client.health(model)
    since = datetime.now(UTC) - timedelta(seconds=20 * window)
    newest = {}
    for metric in ("tokens_out_per_s", "first_token_p95_ms"):
        rows = client.metrics(model, since=since, metric=metric).rows  # by window_start
        newest[metric] = f"{rows[-1].value:.0f}" if rows and rows[-1].value is not None else "-"
    drifted = sorted({r.column for r in client.drift(model).rows if r.column and r.alert})
    return ", ".join(
        [
            f"live {int(health['live_instances'])}",
            f"{int(health['predictions']):,} generations",
            f"{newest['tokens_out_per_s']} tokens/s",
            f"first token p95 {newest['first_token_p95_ms']} ms",
            f"drifted: {_some(drifted)}",
            f"{len(client.alerts(state='firing', model=model))} alerts firing",
        ]
    )


__all__ = ["Snapshot", "generation_line", "snapshot"]
