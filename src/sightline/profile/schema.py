"""Schema: the columns of a model's data, each with a role and a kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sightline._types import ColumnKind, Role
from sightline.errors import SchemaError

ROLES: tuple[Role, ...] = ("feature", "prediction", "probability", "target", "id", "timestamp")
KINDS: tuple[ColumnKind, ...] = ("numeric", "categorical", "text", "embedding")


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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, read back by :meth:`from_dict`.

        Examples
        --------
        >>> Schema((Column("age"),)).to_dict()
        {'columns': [{'name': 'age', 'role': 'feature', 'kind': 'numeric'}]}
        """
        return {"columns": [{"name": c.name, "role": c.role, "kind": c.kind} for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """Rebuild a schema from :meth:`to_dict`.

        Raises
        ------
        SchemaError
            If the mapping is not of that form, or a role or kind is unknown.

        Examples
        --------
        >>> s = Schema((Column("y", role="target", kind="categorical"),))
        >>> Schema.from_dict(s.to_dict()) == s
        True
        """
        columns = data.get("columns") if isinstance(data, Mapping) else None
        if not isinstance(columns, list):
            raise SchemaError("a schema must be a mapping with a list of 'columns'")
        out = []
        for entry in columns:
            if (
                not isinstance(entry, Mapping)
                or set(entry) != {"name", "role", "kind"}
                or not all(isinstance(v, str) for v in entry.values())
            ):
                raise SchemaError(
                    f"each schema column must be a mapping of the strings name, role and "
                    f"kind, got {entry!r:.100}"
                )
            out.append(Column(entry["name"], role=entry["role"], kind=entry["kind"]))
        return cls(tuple(out))


def probability_column(names: Sequence[str], label: str) -> str | None:
    """The probability column of class ``label`` among ``names``: the one named after the
    class itself or ending in ``_<label>`` (``proba_a``, ``y_pred_proba_a``); None unless
    exactly one is.

    >>> probability_column(["proba_a", "proba_b"], "b"), probability_column(["score"], "b")
    ('proba_b', None)
    """
    match = [n for n in names if n == label or n.endswith(f"_{label}")]
    return match[0] if len(match) == 1 else None


__all__ = ["KINDS", "ROLES", "Column", "Schema", "probability_column"]
