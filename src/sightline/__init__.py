"""sightline: monitor machine-learning models in production.

The public names are loaded on first use, so that ``import sightline.profile`` (and later
the SDK, on edge devices) does not pull in pandas, pyarrow or scipy.

>>> import sightline
>>> sightline.__all__[:3]
['Client', 'Column', 'DriftOptions']
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: Public name -> module that defines it.
_EXPORTS = {
    "Client": "sightline.client.client",
    "Column": "sightline.profile.schema",
    "DriftOptions": "sightline.analysis.methods",
    "MetricRow": "sightline.analysis.rows",
    "Monitor": "sightline.sdk.monitor",
    "Profile": "sightline.profile.dataset",
    "Result": "sightline.analysis.rows",
    "Schema": "sightline.profile.schema",
    "analyze": "sightline.analysis.analyze",
    "compare": "sightline.analysis.compare",
    "merge_profiles": "sightline.profile.dataset",
}

if TYPE_CHECKING:
    from sightline.analysis.analyze import analyze
    from sightline.analysis.compare import compare
    from sightline.analysis.methods import DriftOptions
    from sightline.analysis.rows import MetricRow, Result
    from sightline.client.client import Client
    from sightline.profile.dataset import Profile, merge_profiles
    from sightline.profile.schema import Column, Schema
    from sightline.sdk.monitor import Monitor


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sightline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "Client",
    "Column",
    "DriftOptions",
    "MetricRow",
    "Monitor",
    "Profile",
    "Result",
    "Schema",
    "__version__",
    "analyze",
    "compare",
    "merge_profiles",
]
