"""The columns of a generation (one prompt and output of a generative service), shared by
the SDK that logs them and the scheduler that turns them into health rows."""

from __future__ import annotations

from typing import Final

from sightline.profile.schema import Column, Schema

PROMPT: Final = "prompt"
OUTPUT: Final = "output"
MODEL_NAME: Final = "model_name"
TOKENS_IN: Final = "tokens_in"
TOKENS_OUT: Final = "tokens_out"
LATENCY_S: Final = "latency_s"
FIRST_TOKEN_S: Final = "first_token_s"
ERROR: Final = "error"

#: The columns of a generation (all features: the output is text, not a label to join).
#:
#: >>> GENERATION_SCHEMA.names(kind="text")
#: ['prompt', 'output']
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


def has_generations(schema: Schema) -> bool:
    """Whether ``schema`` has the generation's ``output`` text and ``error`` number columns.

    >>> has_generations(GENERATION_SCHEMA), has_generations(Schema((Column("x"),)))
    (True, False)
    """
    return (
        OUTPUT in schema
        and ERROR in schema
        and schema[OUTPUT].kind == "text"
        and schema[ERROR].kind == "numeric"
    )


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
    "has_generations",
]
