"""Exceptions raised by sightline. Imports nothing internal.

::

    SightlineError
     ├── InvalidInputError (ValueError)
     │    ├── SchemaError            missing, extra or mistyped columns
     │    ├── IncompatibleProfilesError
     │    └── UnsupportedFormatError
     ├── NotFittedError (ValueError, AttributeError)
     ├── NotFoundError (LookupError)     unknown model, version or key
     ├── ConflictError                   a reused idempotency key or a changed schema
     └── StoreError                      the store cannot be opened or written

Every message names the field, the value and what was expected.
"""

from __future__ import annotations


class SightlineError(Exception):
    """Base class of every error sightline raises on purpose."""


class InvalidInputError(SightlineError, ValueError):
    """An argument or a data set is not what the function accepts.

    ``field`` names the argument or column at fault when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SchemaError(InvalidInputError):
    """Columns are missing, unexpected, or of the wrong kind."""


class IncompatibleProfilesError(InvalidInputError):
    """Two profiles cannot be merged or compared (schema, bin edges or sketch size differ)."""


class UnsupportedFormatError(InvalidInputError):
    """A file or payload has an unknown format or version."""


class NotFittedError(SightlineError, ValueError, AttributeError):
    """An estimator was used before ``fit``."""


class NotFoundError(SightlineError, LookupError):
    """A model, version or other named object does not exist."""


class ConflictError(SightlineError):
    """A write contradicts what is stored: an idempotency key reused with another body,
    a version registered again with another schema, a reference replaced."""


class StoreError(SightlineError):
    """The store cannot be opened, migrated or written (locked, unreachable, corrupt)."""


class SightlineWarning(UserWarning):
    """A lossy but valid case: an all-NaN column, an unseen category, a tiny sample."""


__all__ = [
    "ConflictError",
    "IncompatibleProfilesError",
    "InvalidInputError",
    "NotFittedError",
    "NotFoundError",
    "SchemaError",
    "SightlineError",
    "SightlineWarning",
    "StoreError",
    "UnsupportedFormatError",
]
