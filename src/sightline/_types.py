"""Shared type aliases. Imports nothing internal."""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ColumnKind: TypeAlias = Literal["numeric", "categorical", "text", "embedding"]
Role: TypeAlias = Literal["feature", "prediction", "probability", "target", "id", "timestamp"]

__all__ = ["BoolArray", "ColumnKind", "FloatArray", "IntArray", "Role"]
