"""Schema: the columns of a model's data, each with a role and a kind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sightline._types import ColumnKind, Role
from sightline.errors import SchemaError

ROLES: tuple[Role, ...] = ("feature", "prediction", "probability", "target", "id", "timestamp")
KINDS: tuple[ColumnKind, ...] = ("numeric", "categorical")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name, its role in the model, and its kind of values.

    Examples
    --------
    >>> Column("age", kind="numeric")
    Column(name='age', role='feature', kind='numeric')
    """

    name: str
    role: Role = "feature"
    kind: ColumnKind = "numeric"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise SchemaError(
                f"column {self.name!r}: role must be one of {list(ROLES)}, got {self.role!r}",
                field=self.name,
            )
        if self.kind not in KINDS:
            raise SchemaError(
                f"column {self.name!r}: kind must be one of {list(KINDS)}, got {self.kind!r}",
                field=self.name,
            )


@dataclass(frozen=True, slots=True)
class Schema:
    """An ordered set of columns with unique names.

    Examples
    --------
    >>> s = Schema((Column("age"), Column("y", role="target", kind="categorical")))
    >>> s.names(role="feature"), s["y"].kind
    (['age'], 'categorical')
    """

    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for c in self.columns:
            if c.name in seen:
                raise SchemaError(f"duplicate column name {c.name!r} in schema", field=c.name)
            seen.add(c.name)
        for role in ("prediction", "target", "id", "timestamp"):
            named = [c.name for c in self.columns if c.role == role]
            if len(named) > 1:
                raise SchemaError(f"at most one {role} column is allowed, got {named}")

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"unknown column {name!r}", field=name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def names(self, *, role: Role | None = None, kind: ColumnKind | None = None) -> list[str]:
        """Column names, optionally only those of one role and/or kind."""
        return [
            c.name
            for c in self.columns
            if (role is None or c.role == role) and (kind is None or c.kind == kind)
        ]

    def one(self, role: Role) -> Column | None:
        """The column with this role, or None (prediction, target, id and timestamp are unique)."""
        found = [c for c in self.columns if c.role == role]
        return found[0] if found else None

    @classmethod
    def of(cls, columns: Iterable[Column]) -> Schema:
        """Build a schema from any iterable of columns."""
        return cls(tuple(columns))


__all__ = ["KINDS", "ROLES", "Column", "Schema"]
