"""Logging the generations of a generative (LLM) service: prompt and output as text
columns, with the service's token counts, timings, model name and errors.

A generation is one row of :data:`GENERATION_SCHEMA` logged through
:meth:`~sightline.sdk.monitor.Monitor.log` (so it costs what ``log`` costs: an append to a
buffer); the background thread profiles ``prompt`` and ``output`` as text (their
descriptors and frequent words), the numbers as numeric columns and ``model_name`` as a
categorical one. ``latency_s`` is also the row's latency (the service's latency
percentiles), and a failed generation (``error`` given) counts in the profile's errors,
so the window's ``error_rate`` covers generations. The collector's health job turns these
columns into the generation health rows (:mod:`sightline.scheduler.generation`).

A monitor without a schema (none given, none registered yet) takes
:data:`GENERATION_SCHEMA` at its first generation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sightline.errors import InvalidInputError
from sightline.profile import Schema
from sightline.profile.generation import (
    ERROR,
    FIRST_TOKEN_S,
    GENERATION_SCHEMA,
    LATENCY_S,
    MODEL_NAME,
    OUTPUT,
    PROMPT,
    TOKENS_IN,
    TOKENS_OUT,
    has_generations,
)

if TYPE_CHECKING:
    from sightline.sdk.columns import Columns
    from sightline.sdk.window import Spec

_NUMBER = (int, float)


def _milliseconds(seconds: Any) -> Any:
    """Seconds as milliseconds; anything else as it is (``log`` counts it invalid)."""
    return seconds * 1000.0 if type(seconds) in _NUMBER else seconds


def failed(spec: Spec, columns: Columns) -> int:
    """How many rows of a batch are failed generations (``error`` = 1), when the schema
    has the generation's ``output`` text and ``error`` number columns; else 0.

    >>> from sightline.sdk.columns import Columns
    >>> from sightline.sdk.window import Spec
    >>> failed(Spec(GENERATION_SCHEMA), Columns({"error": np.array([0.0, 1.0, np.nan])}))
    1
    """
    if not has_generations(spec.schema):
        return 0
    values = columns.values.get(ERROR)
    return 0 if values is None else int(np.count_nonzero(values > 0))


class GenerationLogging:
    """:meth:`log_generation` and :meth:`log_generations`, mixed into the Monitor."""

    _schema: Schema | None
    _spec: Any

    def log_generation(
        self,
        prompt: str | None,
        output: str | None,
        *,
        id: str | None = None,
        model_name: str | None = None,
        tokens_in: float | None = None,
        tokens_out: float | None = None,
        latency_s: float | None = None,
        first_token_s: float | None = None,
        error: object = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Record one generation; return its id (generated when not given).

        ``error`` is anything that says the generation failed (an exception, a message,
        True); None or False for a success. ``extra`` holds values of further schema
        columns (an embedding of the prompt, say). Costs about what :meth:`log` costs.

        Examples
        --------
        >>> from sightline.sdk import Monitor
        >>> m = Monitor("writer", "1", url=None)
        >>> _ = m.log_generation("Write about tea.", "Tea is...", model_name="small",
        ...                      tokens_in=4, tokens_out=3, latency_s=0.8, first_token_s=0.1)
        >>> m.flush(); m.stats()["rows"]
        True
        1
        >>> m.close()
        """
        if self._schema is None and self._spec is None:
            self._schema = GENERATION_SCHEMA
        features = {
            PROMPT: prompt,
            OUTPUT: output,
            MODEL_NAME: model_name,
            TOKENS_IN: tokens_in,
            TOKENS_OUT: tokens_out,
            LATENCY_S: latency_s,
            FIRST_TOKEN_S: first_token_s,
            ERROR: 0.0 if error is None or error is False else 1.0,
        }
        if extra:
            features.update(extra)
        monitor: Any = self  # a Monitor: the mixin's host
        return str(monitor.log(features, id=id, latency_ms=_milliseconds(latency_s)))

    def log_generations(
        self,
        prompts: Sequence[str | None],
        outputs: Sequence[str | None],
        *,
        ids: Sequence[str] | None = None,
        model_names: Sequence[str | None] | None = None,
        tokens_in: Sequence[float | None] | None = None,
        tokens_out: Sequence[float | None] | None = None,
        latency_s: Sequence[float | None] | None = None,
        first_token_s: Sequence[float | None] | None = None,
        errors: Sequence[object] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Record a batch of generations given column by column (the batch form of
        :meth:`log_generation`; ``extra`` maps further columns to their values, a 2-D
        array for an embedding); return their ids.

        Raises
        ------
        InvalidInputError
            If a column does not have one value per prompt.
        """
        if self._schema is None and self._spec is None:
            self._schema = GENERATION_SCHEMA
        n = len(prompts)
        given: list[tuple[str, str, Sequence[Any] | None]] = [  # argument, column, values
            ("outputs", OUTPUT, outputs),
            ("model_names", MODEL_NAME, model_names),
            ("tokens_in", TOKENS_IN, tokens_in),
            ("tokens_out", TOKENS_OUT, tokens_out),
            ("latency_s", LATENCY_S, latency_s),
            ("first_token_s", FIRST_TOKEN_S, first_token_s),
            ("errors", ERROR, errors),
            ("ids", "", ids),
            *((name, name, values) for name, values in (extra or {}).items()),
        ]
        for argument, _, values in given:
            if values is not None and len(values) != n:
                raise InvalidInputError(
                    f"log_generations: {argument} has {len(values)} values for {n} prompts",
                    field=argument,
                )
        data: dict[str, Any] = {PROMPT: list(prompts)}
        data.update((column, values) for _, column, values in given if values is not None)
        data.pop("", None)
        data[ERROR] = [0.0 if x is None or x is False else 1.0 for x in errors or [None] * n]
        latency = None if latency_s is None else [_milliseconds(x) for x in latency_s]
        monitor: Any = self  # a Monitor: the mixin's host
        return list(monitor.log_batch(data, ids=ids, latency_ms=latency))


__all__ = ["GENERATION_SCHEMA", "GenerationLogging", "failed"]
