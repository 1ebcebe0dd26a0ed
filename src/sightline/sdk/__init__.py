"""The SDK: log predictions from a serving process (Monitor), deliver them to the collector.

Imports numpy, datasketches and httpx only (no pandas, pyarrow or server dependencies).
"""

from __future__ import annotations

from sightline.sdk.monitor import Monitor, MonitorClosedError

__all__ = ["Monitor", "MonitorClosedError"]
