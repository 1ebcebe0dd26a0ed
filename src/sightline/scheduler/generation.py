"""Health rows of a generative service, from the generation columns of its profiles.

A model version whose schema has the generation columns of
:data:`~sightline.profile.generation.GENERATION_SCHEMA` (``output`` text, ``tokens_in``,
``tokens_out``, ``latency_s``, ``first_token_s``, ``model_name``) gets, per window:

``generations``
    rows logged (the ``output`` column's count);
``tokens_in_per_s``, ``tokens_out_per_s``
    the window's token counts (exact sums, from the moments) over its length;
``first_token_p50_ms``, ``first_token_p95_ms``
    time to first token, from the merged KLL sketches (an estimate within 1.33 % in rank;
    exact below 200 generations per window);
``latency_per_output_token_ms``
    summed latency over summed output tokens;
``empty_output_rate``
    share of outputs that are empty or whitespace (the ``empty`` descriptor);
``models_loaded``
    distinct ``model_name`` values logged in the window (by the instances live in it).

Failed generations count in the profile's errors, so the window's ``error_rate`` row
(:func:`sightline.scheduler.jobs._health`) covers them. The profiles are summed, not
merged, as the other health rows are (profiles sent before a reference need not merge).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sightline.analysis.rows import MetricRow, RowContext
from sightline.profile import KLL, Profile
from sightline.profile.column import CategoricalColumnProfile, NumericColumnProfile
from sightline.profile.generation import (
    FIRST_TOKEN_S,
    LATENCY_S,
    MODEL_NAME,
    OUTPUT,
    TOKENS_IN,
    TOKENS_OUT,
)
from sightline.profile.text import TextColumnProfile

#: The generation health rows' metrics, in the order a page shows them.
GENERATION_METRICS = (
    "generations",
    "tokens_in_per_s",
    "tokens_out_per_s",
    "first_token_p50_ms",
    "first_token_p95_ms",
    "latency_per_output_token_ms",
    "empty_output_rate",
    "models_loaded",
)


def _numeric(profiles: Sequence[Profile], name: str) -> list[NumericColumnProfile]:
    return [c for p in profiles if isinstance(c := p.columns.get(name), NumericColumnProfile)]


def _total(columns: Sequence[NumericColumnProfile]) -> tuple[float, int]:
    """The sum of the finite values and their count."""
    n = sum(int(c.moments.n) for c in columns)
    return sum(float(c.moments.mean) * int(c.moments.n) for c in columns), n


def generation_rows(
    profiles: Sequence[Profile], seconds: float, ctx: RowContext
) -> list[MetricRow]:
    """The generation health rows of one window (none without an ``output`` text column).

    Examples
    --------
    >>> from sightline.profile.generation import GENERATION_SCHEMA
    >>> p = Profile.zero(GENERATION_SCHEMA).update({
    ...     "output": ["Tea is green.", ""], "tokens_out": [4.0, 0.0], "latency_s": [0.4, 0.1],
    ...     "first_token_s": [0.05, 0.02], "model_name": ["small", "large"]})
    >>> rows = {r.metric: r.value for r in generation_rows([p], 10.0, RowContext())}
    >>> rows["generations"], rows["tokens_out_per_s"], rows["models_loaded"]
    (2.0, 0.4, 2.0)
    >>> rows["latency_per_output_token_ms"], rows["empty_output_rate"]
    (125.0, 0.5)
    """
    outputs = [c for p in profiles if isinstance(c := p.columns.get(OUTPUT), TextColumnProfile)]
    if not outputs:
        return []
    n = sum(c.count for c in outputs)
    rows = [ctx.row("generations", float(n), n_cur=n, method="rows of the output column")]
    for metric, name in (("tokens_in_per_s", TOKENS_IN), ("tokens_out_per_s", TOKENS_OUT)):
        total, count = _total(_numeric(profiles, name))
        if count:
            method = f"sum of {name} over the window's {seconds:g} s"
            rows.append(ctx.row(metric, total / seconds, n_cur=count, method=method))
    rows += _first_token_rows(_numeric(profiles, FIRST_TOKEN_S), ctx)
    latency, n_latency = _total(_numeric(profiles, LATENCY_S))
    tokens, _ = _total(_numeric(profiles, TOKENS_OUT))
    if n_latency and tokens > 0:
        method = "sum of latency_s / sum of tokens_out, in ms"
        value = 1000.0 * latency / tokens
        rows.append(ctx.row("latency_per_output_token_ms", value, n_cur=n_latency, method=method))
    empty = [c.descriptors["empty"] for c in outputs if "empty" in c.descriptors]
    share, n_text = _total(empty)
    if n_text:
        method = "outputs empty or whitespace only / outputs"
        rows.append(ctx.row("empty_output_rate", share / n_text, n_cur=n_text, method=method))
    names = {
        value
        for p in profiles
        if isinstance(c := p.columns.get(MODEL_NAME), CategoricalColumnProfile)
        for value, count, *_ in c.frequent.top()
        if count > 0
    }
    method = "distinct model_name values logged in the window"
    rows.append(ctx.row("models_loaded", float(len(names)), method=method))
    return rows


def first_byte_rows(profiles: Sequence[Profile], ctx: RowContext) -> list[MetricRow]:
    """``first_byte_p50_ms`` and ``first_byte_p95_ms``: the time to the first byte of
    streamed responses (the ASGI middleware's), interpolated in the summed buckets as the
    latency percentiles are; none without streamed responses.

    >>> from sightline.profile import Column, Schema
    >>> p = Profile.zero(Schema((Column("x"),))).record_first_byte([20.0, 30.0, 40.0])
    >>> [(r.metric, r.value) for r in first_byte_rows([p], RowContext())]
    [('first_byte_p50_ms', 31.25), ('first_byte_p95_ms', 48.125)]
    """
    from sightline.scheduler.jobs import bucket_quantile  # jobs imports this module

    buckets = np.sum([p.first_byte_buckets for p in profiles], axis=0)
    n = int(buckets.sum()) if len(profiles) else 0
    if not n:
        return []
    method = "histogram_quantile of the first-byte le buckets"
    return [
        ctx.row(
            f"first_byte_p{round(q * 100)}_ms", bucket_quantile(buckets, q), n_cur=n, method=method
        )
        for q in (0.5, 0.95)
    ]


def _first_token_rows(columns: Sequence[NumericColumnProfile], ctx: RowContext) -> list[MetricRow]:
    sketches = [c.kll for c in columns if c.kll.n]
    if not sketches:
        return []
    merged = KLL(sketches[0].k)
    for s in sketches:
        if s.k == merged.k:
            merged._merge_into(s)
    q = merged.quantiles(np.array([0.5, 0.95]))
    method = "KLL quantile of first_token_s, in ms"
    return [
        ctx.row(metric, 1000.0 * float(v), n_cur=int(merged.n), method=method)
        for metric, v in (("first_token_p50_ms", q[0]), ("first_token_p95_ms", q[1]))
        if math.isfinite(float(v))
    ]


__all__ = ["GENERATION_METRICS", "first_byte_rows", "generation_rows"]
