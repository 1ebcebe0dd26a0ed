"""Bin edges for a rolling reference that has no uploaded reference to take them from.

Profiles sent before a version has a reference carry sketches but no histograms, and drift
is computed exactly on histograms only. So once the first ``reference_windows`` windows of
such a version have closed, the collector fixes the bins from them: the deciles of their
merged KLL sketches for each numeric column, the categories their frequent-items sketches
saw for each categorical one. It stores them as the version's reference (an empty profile
with those edges), which the SDK picks up as its next window opens; from then on
profiles are binned, and each window is compared with the previous ``reference_windows``
binned windows. The KLL sketches' compaction is randomized, so the edges are computed
once and stored: the first replica to store them wins (the others' are refused as a
conflict and dropped).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np

from sightline.analysis.text import vocabulary_of
from sightline.errors import ConflictError
from sightline.profile import Profile, merge_profiles
from sightline.profile.column import CategoricalColumnProfile, NumericColumnProfile
from sightline.profile.text import TextColumnProfile
from sightline.scheduler.jobs import compatible
from sightline.scheduler.windows import closed_before
from sightline.stats._binning import distinct_edges
from sightline.store import Store

log = logging.getLogger("sightline.scheduler")

#: Bins of a numeric column fixed by the collector: deciles, as a reference data set gets.
N_BINS = 10


def edges_from_sketches(profile: Profile) -> Profile:
    """The empty profile binned on the deciles (KLL) and categories (frequent items) of
    ``profile``: a reference that fixes bins and holds no rows. A text column's
    descriptors are binned like numeric columns, and its vocabulary is that of its
    frequent words (:func:`~sightline.analysis.text.vocabulary_of`).

    >>> from sightline.profile import Column, Schema
    >>> p = Profile.zero(Schema((Column("x"),))).update({"x": np.arange(100.0)})
    >>> edges_from_sketches(p).reference_spec()[0]["x"].tolist()[:3]
    [9.0, 19.0, 29.0]
    """
    edges: dict[str, np.ndarray] = {}
    vocabularies: dict[str, tuple[str, ...]] = {}
    for name, column in profile.columns.items():
        if isinstance(column, NumericColumnProfile) and not column.kll.is_empty:
            edges[name] = _deciles(column)
        elif isinstance(column, TextColumnProfile):
            for descriptor, found in column.descriptors.items():
                if not found.kll.is_empty:
                    edges[f"{name}.{descriptor}"] = _deciles(found)
            vocabularies[name] = vocabulary_of((w, n) for w, n, *_ in column.words.top())
        elif isinstance(column, CategoricalColumnProfile):
            seen = tuple(sorted(item for item, *_ in column.frequent.top()))
            if seen:
                vocabularies[name] = seen
    return Profile.zero(
        profile.schema,
        edges=edges,
        vocabularies=vocabularies,
        model=profile.model,
        version=profile.version,
    )


def _deciles(column: NumericColumnProfile) -> np.ndarray:
    return distinct_edges(column.kll.quantiles(np.arange(1, N_BINS) / N_BINS))


def fix_edges(store: Store, now: datetime) -> int:
    """Store the bins of every rolling-reference version without a reference whose first
    ``reference_windows`` windows are closed at ``now``; return how many were stored."""
    stored = 0
    for project in sorted({p for p, _, _ in store.all_versions()}):
        for version in store.list_versions(project):
            model, name = version.model, version.version
            if version.has_reference:
                continue
            rolling = store.reference_windows(project, model, name)
            if not rolling:
                continue
            settings = store.model_settings(project, model)
            closed = closed_before(now, settings.window, settings.lateness)
            size = timedelta(seconds=settings.window)
            starts = sorted(
                s
                for s in store.profile_windows(project, model, name, settings.window)
                if s + size <= closed
            )[:rolling]
            if len(starts) < rolling:
                continue
            payloads = store.window_profiles(project, model, name, starts[0], starts[-1] + size)
            kept, _ = compatible([Profile.from_bytes(p) for p in payloads])
            reference = edges_from_sketches(merge_profiles(kept))
            try:
                store.set_reference(project, model, name, reference.to_bytes())
            except ConflictError:
                continue  # another replica stored its edges first
            log.info("fixed the bins of %s/%s/%s from %d windows", project, model, name, rolling)
            stored += 1
    return stored
