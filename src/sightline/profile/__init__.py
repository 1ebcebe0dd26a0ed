"""sightline.profile: mergeable column and dataset profiles, and their serialization.

Imports numpy, datasketches and the standard library only (no pandas, pyarrow or scipy),
so that the SDK can use it on edge devices.
"""

from __future__ import annotations

from sightline.profile.codec import FORMAT_VERSION, decode, encode
from sightline.profile.column import QUANTILES, CategoricalColumnProfile, NumericColumnProfile
from sightline.profile.dataset import (
    LATENCY_BUCKETS_MS,
    MONITORED_ROLES,
    SCHEMA_VERSION,
    Profile,
    merge_profiles,
)
from sightline.profile.embedding import EmbeddingColumnProfile
from sightline.profile.schema import Column, Schema
from sightline.profile.sketch import KLL, FrequentItems, HyperLogLog, ks_distance
from sightline.profile.text import TextColumnProfile

__all__ = [
    "FORMAT_VERSION",
    "KLL",
    "LATENCY_BUCKETS_MS",
    "MONITORED_ROLES",
    "QUANTILES",
    "SCHEMA_VERSION",
    "CategoricalColumnProfile",
    "Column",
    "EmbeddingColumnProfile",
    "FrequentItems",
    "HyperLogLog",
    "NumericColumnProfile",
    "Profile",
    "Schema",
    "TextColumnProfile",
    "decode",
    "encode",
    "ks_distance",
    "merge_profiles",
]
