"""Window sizes and edges, aligned to the Unix epoch.

>>> parse_duration("5m"), parse_duration("1h"), parse_duration("1d"), parse_duration(90)
(300, 3600, 86400, 90)
>>> from datetime import datetime
>>> window_of(datetime(2026, 1, 1, 10, 7), 300)
(datetime.datetime(2026, 1, 1, 10, 5), datetime.datetime(2026, 1, 1, 10, 10))
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sightline.errors import InvalidInputError

EPOCH = datetime(1970, 1, 1)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | int) -> int:
    """Seconds in ``"30s"``, ``"5m"``, ``"1h"``, ``"1d"`` (or a number of seconds)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", str(value))
    if match is None or int(match.group(1)) <= 0:
        raise InvalidInputError(
            f"a duration looks like 30s, 5m, 1h or 1d, got {value!r}", field="window"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def window_of(moment: datetime, size: int) -> tuple[datetime, datetime]:
    """The epoch-aligned window of ``size`` seconds holding ``moment`` (naive UTC)."""
    seconds = (moment - EPOCH) // timedelta(seconds=size) * size
    start = EPOCH + timedelta(seconds=seconds)
    return start, start + timedelta(seconds=size)


def closed_before(now: datetime, size: int, lateness: int) -> datetime:
    """The end of the newest window that is closed at ``now``: windows ending at or
    before it are computed (``lateness`` seconds after they end)."""
    return window_of(now - timedelta(seconds=lateness), size)[0]
