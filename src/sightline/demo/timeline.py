"""When the demo does what: window sizes, the drifts, the killed instance.

Times are seconds after the serving processes start. ``FAST`` fits everything into about a
minute (5-second windows); ``NORMAL`` uses 1-minute windows and shows everything within
5 minutes of the start.

>>> FAST.phase(FAST.covariate_at + 1)
Phase(covariate=True, concept=False)
>>> NORMAL.window, NORMAL.phase(0.0).covariate
(60, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from sightline.demo.data import Phase


@dataclass(frozen=True)
class Timeline:
    """The demo's schedule and the collector settings that make it visible in time."""

    window: int  # seconds; the model's window and the SDK's
    lateness: int  # seconds a window waits for late profiles before it is computed
    schedule_every: float  # seconds between scheduler passes
    heartbeat_timeout: int  # seconds without a heartbeat before an instance is not live
    label_delay: float  # seconds between a prediction and its label
    covariate_at: float
    kill_at: float
    restart_at: float  # at least two windows after kill_at: one whole window lacks it
    concept_at: float
    progress_every: float  # seconds between progress lines
    group_wait: str  # the alert route's durations
    group_interval: str

    def phase(self, elapsed: float) -> Phase:
        """The drifts in force ``elapsed`` seconds after the start."""
        return Phase(covariate=elapsed >= self.covariate_at, concept=elapsed >= self.concept_at)

    def events(self) -> list[tuple[float, str, str]]:
        """The timeline as ``(seconds, kind, what)``, in order; ``kind`` is ``drift``,
        ``kill`` or ``restart``."""
        return sorted(
            [
                (
                    self.covariate_at,
                    "drift",
                    "covariate drift: credit_score falls, purpose moves; "
                    "article-writer's topics shift",
                ),
                (self.kill_at, "kill", "killing an instance (SIGKILL)"),
                (self.concept_at, "drift", "concept drift: the labels disagree with the model"),
                (self.restart_at, "restart", "restarting the killed instance"),
            ]
        )


FAST = Timeline(
    window=5,
    lateness=1,
    schedule_every=2.0,
    heartbeat_timeout=10,
    label_delay=2.0,
    covariate_at=10.0,
    kill_at=16.0,
    restart_at=30.0,
    concept_at=24.0,
    progress_every=5.0,
    group_wait="1s",
    group_interval="5s",
)
NORMAL = Timeline(
    window=60,
    lateness=10,
    schedule_every=10.0,
    heartbeat_timeout=75,
    label_delay=20.0,
    covariate_at=75.0,
    kill_at=100.0,
    restart_at=240.0,
    concept_at=140.0,
    progress_every=15.0,
    group_wait="10s",
    group_interval="1m",
)

__all__ = ["FAST", "NORMAL", "Timeline"]
