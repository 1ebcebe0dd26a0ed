"""The rules file: receivers, the route, alert rules and SLOs, parsed and validated.

Every error names the rule (or receiver, or SLO) and the field, so a typo in a rules file
stops the collector at start with a message that says what to fix:

>>> parse_rules("rules: [{name: x, match: {metric: psi}, when: 'value >> 1'}]")
Traceback (most recent call last):
...
sightline.errors.InvalidInputError: rule 'x': when must be 'alert', 'outside bounds', \
'value > X', 'value < X', 'value >= X' or 'value <= X', got 'value >> 1'

>>> rs = parse_rules('''
... receivers: [{name: ops, type: webhook, url: "http://127.0.0.1:9000/hook"}]
... rules: [{name: drift, match: {metric: jensen_shannon, column: "*"}, when: alert}]
... ''')
>>> rs.rules[0].match.column, rs.route.group_wait, rs.receiver_for({"model": "m"}).name
('*', 30.0, 'ops')
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from sightline._time import parse_duration
from sightline.analysis.rows import MetricRow
from sightline.errors import InvalidInputError

ReceiverType = Literal["webhook", "slack", "alertmanager", "retrain"]
RECEIVER_TYPES: tuple[str, ...] = ("webhook", "slack", "alertmanager", "retrain")
SEVERITIES: tuple[str, ...] = ("page", "ticket", "info")

_WHEN = re.compile(r"\s*value\s*(>=|<=|>|<)\s*(\S+)\s*")
_WHEN_HELP = "'alert', 'outside bounds', 'value > X', 'value < X', 'value >= X' or 'value <= X'"


@dataclass(frozen=True)
class Selector:
    """Which metric rows a rule looks at; each field is a glob (``*`` matches anything).

    >>> Selector(metric="latency_p*").matches(MetricRow(metric="latency_p95_ms", value=1.0))
    True
    """

    model: str = "*"
    version: str = "*"
    column: str = ""
    metric: str = "*"

    def matches(self, row: MetricRow) -> bool:
        """Whether ``row`` is one of the selected rows."""
        pairs = (
            (self.model, row.model),
            (self.version, row.version),
            (self.column, row.column),
            (self.metric, row.metric),
        )
        return all(fnmatch.fnmatchcase(value, pattern) for pattern, value in pairs)


@dataclass(frozen=True)
class Condition:
    """When a selected row is bad: its own ``alert``, outside its ``lower``/``upper``, or
    its value compared with a threshold.

    >>> Condition("value >", 0.2).holds(MetricRow(metric="psi", value=0.3))
    True
    >>> Condition("outside bounds").holds(MetricRow(metric="psi", value=0.3, upper=0.5))
    False
    """

    kind: str
    threshold: float = math.nan

    def holds(self, row: MetricRow) -> bool:
        """Whether ``row`` meets the condition (a not-computed row never does)."""
        if not row.is_computed or (self.kind != "alert" and math.isnan(row.value)):
            return False
        v, t = row.value, self.threshold
        return {
            "alert": lambda: row.alert,
            "outside bounds": lambda: v < row.lower or v > row.upper,
            "value >": lambda: v > t,
            "value <": lambda: v < t,
            "value >=": lambda: v >= t,
            "value <=": lambda: v <= t,
        }[self.kind]()


@dataclass(frozen=True)
class Rule:
    """One alert rule: rows it selects, when they are bad, and what the alert says.

    ``for_`` and ``keep_firing_for`` are seconds, with Prometheus's meaning.
    """

    name: str
    match: Selector
    when: Condition
    for_: float = 0.0
    keep_firing_for: float = 0.0
    severity: str = "page"
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receiver:
    """Where notifications go; ``secret`` signs webhook bodies (HMAC-SHA256)."""

    name: str
    type: ReceiverType
    url: str
    secret: str = ""
    timeout: float = 5.0


@dataclass(frozen=True)
class SubRoute:
    """Alerts whose labels match every ``match`` glob go to ``receiver``."""

    receiver: str
    match: Mapping[str, str]


@dataclass(frozen=True)
class Route:
    """Grouping and timing of notifications (Alertmanager's defaults), in seconds."""

    group_by: tuple[str, ...] = ("model",)
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0
    receiver: str = ""
    routes: tuple[SubRoute, ...] = ()


@dataclass(frozen=True)
class Slo:
    """A service-level objective of the models it selects: ``availability`` (the share of
    predictions without error) or ``latency`` (the share served within ``threshold_ms``)."""

    name: str
    kind: Literal["availability", "latency"]
    objective: float
    model: str = "*"
    threshold_ms: float = 50.0
    period: float = 30 * 86400.0


@dataclass(frozen=True)
class RuleSet:
    """A whole rules file."""

    rules: tuple[Rule, ...] = ()
    receivers: tuple[Receiver, ...] = ()
    route: Route = field(default_factory=Route)
    slos: tuple[Slo, ...] = ()
    allow: tuple[str, ...] = ()
    external_url: str = ""

    def receiver_for(self, labels: Mapping[str, str]) -> Receiver | None:
        """The receiver of the first sub-route that matches ``labels``, else the route's,
        else the first receiver (None when the file has none)."""
        by_name = {r.name: r for r in self.receivers}
        for sub in self.route.routes:
            if all(fnmatch.fnmatchcase(labels.get(k, ""), v) for k, v in sub.match.items()):
                return by_name[sub.receiver]
        if self.route.receiver:
            return by_name[self.route.receiver]
        return self.receivers[0] if self.receivers else None


def parse_rules(text: str, *, source: str = "rules") -> RuleSet:
    """The :class:`RuleSet` of a rules file's YAML text; errors name the entry and field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{source} is not valid YAML: {exc}", field=source) from None
    data = {} if data is None else data
    spec = _Fields(data, source)
    receivers = tuple(_receiver(r, i) for i, r in enumerate(spec.list("receivers")))
    _unique([r.name for r in receivers], "receiver")
    rules = tuple(_rule(r, i) for i, r in enumerate(spec.list("rules")))
    _unique([r.name for r in rules], "rule")
    slos = tuple(_slo(s, i) for i, s in enumerate(spec.list("slos")))
    _unique([s.name for s in slos], "slo")
    if spec.get("include_defaults", False, bool):
        defaults = default_rules()
        rules, slos = defaults.rules + rules, defaults.slos + slos
        _unique([r.name for r in rules], "rule")
        _unique([s.name for s in slos], "slo")
    route = _route(spec.get("route", {}, dict), {r.name for r in receivers})
    allow = tuple(str(a) for a in spec.list("allow"))
    external = spec.get("external_url", "", str)
    spec.done()
    return RuleSet(rules, receivers, route, slos, allow, external)


def load_rules(path: str | Path) -> RuleSet:
    """The rules file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read rules file {p}: {exc}", field="rules") from None
    return parse_rules(text, source=str(p))


def default_rules() -> RuleSet:
    """The rules that ship with the collector (``alerts/default_rules.yaml``)."""
    text = resources.files("sightline.alerts").joinpath("default_rules.yaml").read_text("utf-8")
    return parse_rules(text, source="default_rules.yaml")


class _Fields:
    """A mapping read field by field; fields left unread at :meth:`done` are refused."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise InvalidInputError(f"{where}: must be a mapping, got {data!r}", field=where)
        self.data, self.where, self.read = data, where, set()  # type: ignore[var-annotated]

    def get(self, name: str, default: Any, kind: type | tuple[type, ...]) -> Any:
        self.read.add(name)
        value = self.data.get(name, default)
        if value is None or (kind is float and isinstance(value, int)):
            value = default if value is None else float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.error(name, f"must be {_kind_name(kind)}, got {value!r}")
        return value

    def required(self, name: str, kind: type) -> Any:
        if self.data.get(name) in (None, ""):
            raise self.error(name, "is required")
        return self.get(name, None, kind)

    def list(self, name: str) -> list[Any]:
        return list(self.get(name, [], list))

    def duration(self, name: str, default: float) -> float:
        self.read.add(name)
        value = self.data.get(name)
        if value is None:
            return default
        if value in (0, "0", "0s", "0m"):
            return 0.0
        try:
            return float(parse_duration(value, field=name))
        except InvalidInputError as exc:
            raise self.error(name, str(exc)) from None

    def labels(self, name: str) -> dict[str, str]:
        raw = self.get(name, {}, dict)
        return {str(k): str(v) for k, v in raw.items()}

    def error(self, name: str, message: str) -> InvalidInputError:
        return InvalidInputError(f"{self.where}: {name} {message}", field=name)

    def done(self) -> None:
        extra = sorted(set(map(str, self.data)) - self.read)
        if extra:
            raise InvalidInputError(
                f"{self.where}: unknown field {extra[0]!r}; fields are {sorted(self.read)}",
                field=extra[0],
            )


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", float: "a number", bool: "true or false", list: "a list"}
    return names.get(kind, "a mapping") if isinstance(kind, type) else "a number"


def _named(data: Any, what: str, i: int) -> _Fields:
    name = data.get("name") if isinstance(data, dict) else None
    spec = _Fields(data, f"{what} {name!r}" if name else f"{what} #{i + 1}")
    spec.required("name", str)
    return spec


def _rule(data: Any, i: int) -> Rule:
    spec = _named(data, "rule", i)
    match = _Fields(spec.get("match", {}, dict), f"{spec.where}: match")
    selector = Selector(
        model=str(match.get("model", "*", (str, int))),
        version=str(match.get("version", "*", (str, int))),
        column=str(match.get("column", "", (str, int))),
        metric=match.required("metric", str),
    )
    match.done()
    severity = spec.get("severity", "page", str)
    if severity not in SEVERITIES:
        raise spec.error("severity", f"must be one of {SEVERITIES}, got {severity!r}")
    rule = Rule(
        name=spec.get("name", "", str),
        match=selector,
        when=_condition(spec.get("when", "alert", str), spec),
        for_=spec.duration("for", 0.0),
        keep_firing_for=spec.duration("keep_firing_for", 0.0),
        severity=severity,
        labels=spec.labels("labels"),
        annotations=spec.labels("annotations"),
    )
    spec.done()
    return rule


def _condition(text: str, spec: _Fields) -> Condition:
    words = " ".join(text.split())
    if words in ("alert", "outside bounds"):
        return Condition(words)
    found = _WHEN.fullmatch(text)
    try:
        threshold = float(found.group(2)) if found else math.nan
    except ValueError:
        threshold = math.nan
    if found is None or math.isnan(threshold):
        raise InvalidInputError(
            f"{spec.where}: when must be {_WHEN_HELP}, got {text!r}", field="when"
        )
    return Condition(f"value {found.group(1)}", threshold)


def _receiver(data: Any, i: int) -> Receiver:
    spec = _named(data, "receiver", i)
    kind = spec.required("type", str)
    if kind not in RECEIVER_TYPES:
        raise spec.error("type", f"must be one of {RECEIVER_TYPES}, got {kind!r}")
    url = spec.required("url", str)
    if not url.startswith(("http://", "https://")):
        raise spec.error("url", f"must start with http:// or https://, got {url!r}")
    receiver = Receiver(
        spec.get("name", "", str),
        kind,
        url,
        spec.get("secret", "", str),
        spec.get("timeout", 5.0, float),
    )
    spec.done()
    return receiver


def _route(data: dict[str, Any], receivers: set[str]) -> Route:
    spec = _Fields(data, "route")
    group_by = tuple(str(g) for g in spec.list("group_by") or ["model"])
    default = spec.get("receiver", "", str)
    subs = []
    for i, raw in enumerate(spec.list("routes")):
        sub = _Fields(raw, f"route: routes #{i + 1}")
        subs.append(SubRoute(sub.required("receiver", str), sub.labels("match")))
        sub.done()
    for name in [default, *(s.receiver for s in subs)]:
        if name and name not in receivers:
            raise spec.error("receiver", f"names no receiver: {name!r} (have {sorted(receivers)})")
    route = Route(
        group_by=group_by,
        group_wait=spec.duration("group_wait", 30.0),
        group_interval=spec.duration("group_interval", 300.0),
        repeat_interval=spec.duration("repeat_interval", 4 * 3600.0),
        receiver=default,
        routes=tuple(subs),
    )
    spec.done()
    return route


def _slo(data: Any, i: int) -> Slo:
    spec = _named(data, "slo", i)
    kind = spec.required("kind", str)
    if kind not in ("availability", "latency"):
        raise spec.error("kind", f"must be 'availability' or 'latency', got {kind!r}")
    objective = spec.required("objective", float)
    if not 0 < objective < 1:
        raise spec.error("objective", f"must be a share between 0 and 1, got {objective}")
    slo = Slo(
        name=spec.get("name", "", str),
        kind=kind,
        objective=objective,
        model=str(spec.get("model", "*", (str, int))),
        threshold_ms=spec.get("threshold_ms", 50.0, float),
        period=spec.duration("period", 30 * 86400.0),
    )
    spec.done()
    return slo


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInputError(f"{what} {name!r} is defined twice", field="name")
        seen.add(name)


__all__ = [
    "Condition",
    "Receiver",
    "Route",
    "Rule",
    "RuleSet",
    "Selector",
    "Slo",
    "SubRoute",
    "default_rules",
    "load_rules",
    "parse_rules",
]
