"""Schema: the columns of a model's data, each with a role and a kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sightline._types import ColumnKind, Role
from sightline.errors import SchemaError

#: A text column's patterns: ``(name, RE2 pattern)`` pairs, sorted by name.
PatternPairs = tuple[tuple[str, str], ...]

ROLES: tuple[Role, ...] = ("feature", "prediction", "probability", "target", "id", "timestamp")
KINDS: tuple[ColumnKind, ...] = ("numeric", "categorical", "text", "embedding")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name, its role in the model, and its kind of values.

    A text column may carry ``patterns`` (``name -> RE2 pattern``, given as a mapping and
    kept sorted by name): each adds the match-rate descriptor ``<column>.match.<name>`` on
    every path (profiles, the SDK, the collector), as ``compare(..., patterns=)`` does.

    Examples
    --------
    >>> Column("age", kind="numeric")
    Column(name='age', role='feature', kind='numeric')
    >>> Column("output", kind="text", patterns={"refusal": "(?i)i cannot"}).patterns
    (('refusal', '(?i)i cannot'),)
    """

    name: str
    role: Role = "feature"
    kind: ColumnKind = "numeric"
    patterns: Mapping[str, str] | PatternPairs = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "patterns", _pattern_pairs(self.name, self.kind, self.patterns))
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

    def __repr__(self) -> str:
        shown = f", patterns={dict(self.patterns)!r}" if self.patterns else ""
        return f"Column(name={self.name!r}, role={self.role!r}, kind={self.kind!r}{shown})"

    def to_dict(self) -> dict[str, Any]:
        """``name``, ``role`` and ``kind``, and ``patterns`` when there are some."""
        out: dict[str, Any] = {"name": self.name, "role": self.role, "kind": self.kind}
        if self.patterns:
            out["patterns"] = dict(self.patterns)
        return out


def _pattern_pairs(name: str, kind: str, patterns: object) -> PatternPairs:
    """``patterns`` as sorted ``(name, pattern)`` pairs, checked (their RE2 syntax is checked
    where texts are described, :class:`~sightline.profile.text.TextColumnProfile`)."""
    pairs = list(patterns.items()) if isinstance(patterns, Mapping) else patterns
    if not isinstance(pairs, list | tuple) or not all(
        isinstance(p, tuple | list) and len(p) == 2 for p in pairs
    ):
        raise SchemaError(
            f"column {name!r}: patterns must map names to RE2 patterns, got {patterns!r:.100}",
            field=name,
        )
    if pairs and kind != "text":
        raise SchemaError(f"column {name!r}: only text columns take patterns", field=name)
    bad = [(n, p) for n, p in pairs if not (isinstance(n, str) and n and isinstance(p, str))]
    names = [n for n, _ in pairs]
    if bad or len(set(names)) != len(names):
        raise SchemaError(
            f"column {name!r}: patterns must map distinct non-empty names to pattern "
            f"strings, got {bad[0] if bad else names!r:.100}",
            field=name,
        )
    return tuple(sorted((n, p) for n, p in pairs))


_KEYS = ("name", "role", "kind")


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
        return {"columns": [c.to_dict() for c in self.columns]}

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
            patterns = entry.get("patterns") if isinstance(entry, Mapping) else None
            if (
                not isinstance(entry, Mapping)
                or not {"name", "role", "kind"} <= set(entry) <= {*_KEYS, "patterns"}
                or not all(isinstance(entry[k], str) for k in _KEYS)
                or not isinstance(patterns, Mapping | None)
            ):
                raise SchemaError(
                    f"each schema column must be a mapping of the strings name, role and "
                    f"kind (and a text column's patterns), got {entry!r:.100}"
                )
            name, role, kind = (entry[k] for k in _KEYS)
            out.append(Column(name, role=role, kind=kind, patterns=patterns or {}))
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
