"""Data or profiles plus a schema in, tidy metric rows out."""

from __future__ import annotations

from sightline.analysis.analyze import analyze
from sightline.analysis.compare import compare
from sightline.analysis.methods import DriftOptions
from sightline.analysis.rows import Distribution, MetricRow, Result

__all__ = ["Distribution", "DriftOptions", "MetricRow", "Result", "analyze", "compare"]
