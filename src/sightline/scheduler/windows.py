"""Window sizes and edges, aligned to the Unix epoch.

>>> parse_duration("5m"), parse_duration("1h"), parse_duration("1d"), parse_duration(90)
(300, 3600, 86400, 90)
>>> from datetime import datetime
>>> window_of(datetime(2026, 1, 1, 10, 7), 300)
(datetime.datetime(2026, 1, 1, 10, 5), datetime.datetime(2026, 1, 1, 10, 10))
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sightline._time import EPOCH, parse_duration, window_of

__all__ = ["EPOCH", "closed_before", "parse_duration", "window_of"]


def closed_before(now: datetime, size: int, lateness: int) -> datetime:
    """The end of the newest window that is closed at ``now``: windows ending at or
    before it are computed (``lateness`` seconds after they end)."""
    return window_of(now - timedelta(seconds=lateness), size)[0]
