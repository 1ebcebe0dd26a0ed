"""The collector from Python: :class:`Client` (httpx only; data frames and the analysis
layer are imported when a call needs them).

>>> from sightline.client import Client, CollectorError
>>> issubclass(CollectorError, Exception)
True
"""

from __future__ import annotations

from sightline.client._http import CollectorError
from sightline.client.client import DEFAULT_URL, Client

__all__ = ["DEFAULT_URL", "Client", "CollectorError"]
