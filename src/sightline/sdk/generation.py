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

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from sightline.errors import InvalidInputError
from sightline.profile import Column, Schema

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sightline.sdk.columns import Columns
    from sightline.sdk.window import Spec

PROMPT: Final = "prompt"
OUTPUT: Final = "output"
MODEL_NAME: Final = "model_name"
TOKENS_IN: Final = "tokens_in"
TOKENS_OUT: Final = "tokens_out"
LATENCY_S: Final = "latency_s"
FIRST_TOKEN_S: Final = "first_token_s"
ERROR: Final = "error"

#: The columns of a generation (all features: the output is text, not a label to join).
GENERATION_SCHEMA: Final = Schema(
    (
        Column(PROMPT, kind="text"),
        Column(OUTPUT, kind="text"),
        Column(MODEL_NAME, kind="categorical"),
        Column(TOKENS_IN),
        Column(TOKENS_OUT),
        Column(LATENCY_S),
        Column(FIRST_TOKEN_S),
        Column(ERROR),
    )
)
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
    schema = spec.schema
    if OUTPUT not in schema or ERROR not in schema:
        return 0
    if schema[OUTPUT].kind != "text" or schema[ERROR].kind != "numeric":
        return 0
    values = columns.values.get(ERROR)
    return 0 if values is None else int(np.count_nonzero(values > 0))


class GenerationLogging:
    """:meth:`log_generation` and :meth:`log_generations`, mixed into the Monitor."""

    _schema: Schema | None
    _spec: Any

    if TYPE_CHECKING:

        def log(
            self,
            features: Mapping[str, Any],
            prediction: Any = None,
            probability: float | Mapping[str, float] | None = None,
            id: str | None = None,
            latency_ms: float | None = None,
            timestamp: float | datetime | None = None,
        ) -> str: ...

        def log_batch(
            self,
            data: Any,
            predictions: Sequence[Any] | None = None,
            probabilities: Sequence[float | Mapping[str, float]] | None = None,
            ids: Sequence[str] | None = None,
            latency_ms: Sequence[float] | None = None,
            timestamp: float | datetime | None = None,
        ) -> list[str]: ...

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
    ) -> str:
        """Record one generation; return its id (generated when not given).

        ``error`` is anything that says the generation failed (an exception, a message,
        True); None or False for a success. Costs about what :meth:`log` costs.

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
        return self.log(features, id=id, latency_ms=_milliseconds(latency_s))

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
    ) -> list[str]:
        """Record a batch of generations given column by column (the batch form of
        :meth:`log_generation`); return their ids.

        Raises
        ------
        InvalidInputError
            If a column does not have one value per prompt.
        """
        if self._schema is None and self._spec is None:
            self._schema = GENERATION_SCHEMA
        n = len(prompts)
        given: dict[str, Sequence[Any] | None] = {
            OUTPUT: outputs,
            MODEL_NAME: model_names,
            TOKENS_IN: tokens_in,
            TOKENS_OUT: tokens_out,
            LATENCY_S: latency_s,
            FIRST_TOKEN_S: first_token_s,
            ERROR: errors,
            "ids": ids,
        }
        for name, values in given.items():
            if values is not None and len(values) != n:
                raise InvalidInputError(
                    f"log_generations: {name} has {len(values)} values for {n} prompts",
                    field=name,
                )
        data: dict[str, Sequence[Any]] = {PROMPT: list(prompts)}
        data.update((k, list(v)) for k, v in given.items() if v is not None and k != "ids")
        data[ERROR] = [0.0 if x is None or x is False else 1.0 for x in errors or [None] * n]
        latency = None if latency_s is None else [_milliseconds(x) for x in latency_s]
        return self.log_batch(data, ids=ids, latency_ms=latency)


__all__ = [
    "ERROR",
    "FIRST_TOKEN_S",
    "GENERATION_SCHEMA",
    "LATENCY_S",
    "MODEL_NAME",
    "OUTPUT",
    "PROMPT",
    "TOKENS_IN",
    "TOKENS_OUT",
    "GenerationLogging",
    "failed",
]
