"""sightline: monitor machine-learning models in production.

>>> import sightline
>>> sorted(sightline.__all__)[:3]
['Column', 'DriftOptions', 'MetricRow']
"""

from __future__ import annotations

import logging

from sightline.analysis import DriftOptions, MetricRow, Result, analyze, compare
from sightline.profile.schema import Column, Schema

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Column",
    "DriftOptions",
    "MetricRow",
    "Result",
    "Schema",
    "__version__",
    "analyze",
    "compare",
]
