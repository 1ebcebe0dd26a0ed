"""Notifications: bodies for each receiver type, the outbound-address guard, delivery.

Every notification is stored in the outbox (``sightline.store.alerts``) in the same
transaction as the evaluation that made it, and sent from there, so a collector that
stops between the two sends it after it restarts, and one that stops after the receiver
acknowledged does not send it again. Delivery policy, per answer:

- 2xx: delivered.
- 3xx: the ``Location`` is checked by the guard like the first target, then followed with
  the same request (at most 3 redirects).
- 408, 429, 5xx, a timeout or a failed connection: retried after 1 s, 2 s, 4 s ... (at most
  10 min apart), up to :data:`MAX_ATTEMPTS` attempts.
- other 4xx, a target the guard refuses, or a receiver no longer in the rules: given up
  at once (retrying cannot help); the error stays in the outbox.

The guard (:func:`check_target`): a target's host must match an ``allow`` entry of the
rules file (a host glob such as ``hooks.slack.com`` or ``*.example.com``, an IP address or
a CIDR network), and every address it resolves to that is not a global unicast address
(loopback, private 10/8, 172.16/12, 192.168/16, link-local with the cloud metadata address
169.254.169.254, ...) must be inside an IP or CIDR entry: a host glob never allows one.

>>> check_target("http://169.254.169.254/latest", ["*"])
Traceback (most recent call last):
...
sightline.alerts.notify.RefusedTarget: 169.254.169.254 is a link-local address; list it \
in allow: to send there
>>> check_target("http://127.0.0.1:9000/hook", ["127.0.0.1"])
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from sightline.alerts.evaluate import Alert, Notification
from sightline.alerts.rules import Receiver, RuleSet
from sightline.store import Store
from sightline.store.alerts import OutboxEntry, due_notifications, mark_delivered, mark_failed

log = logging.getLogger("sightline.alerts")

MAX_ATTEMPTS = 20
MAX_REDIRECTS = 3
SIGNATURE_HEADER = "X-Sightline-Signature"
_ZERO_TIME = "0001-01-01T00:00:00Z"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]


class RefusedTarget(Exception):
    """The guard refused an outbound address."""


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def check_target(url: str, allow: Sequence[str], resolver: Resolver = resolve) -> None:
    """Raise :class:`RefusedTarget` unless ``url`` may be sent to (see the module doc)."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        raise RefusedTarget(f"{url!r} names no host")
    networks = [n for n in map(_network, allow) if n is not None]
    globs = [a.lower() for a in allow if _network(a) is None]
    literal = _address(host)
    named = literal is None and any(fnmatchcase(host, g) for g in globs)
    if literal is not None:
        addresses = [literal]
        listed = any(literal in n for n in networks) or any(fnmatchcase(host, g) for g in globs)
    else:
        if not named:
            raise RefusedTarget(f"{host} matches no entry of allow: {list(allow)}")
        try:
            addresses = [a for a in map(_address, resolver(host)) if a is not None]
        except OSError as exc:
            raise RefusedTarget(f"{host} does not resolve: {exc}") from None
        listed = True
    for address in addresses:
        inside = any(address in n for n in networks)
        if not address.is_global and not inside:
            raise RefusedTarget(
                f"{address} is a {_kind(address)} address; list it in allow: to send there"
                + (f" ({host} resolves to it)" if literal is None else "")
            )
    if not listed:
        raise RefusedTarget(f"{host} matches no entry of allow: {list(allow)}")


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _kind(address: Address) -> str:
    for name in ("loopback", "link_local", "private", "multicast", "reserved"):
        if getattr(address, f"is_{name}"):
            return name.replace("_", "-")
    return "non-global"


# -- bodies -------------------------------------------------------------------------------


def _time(moment: datetime | None) -> str:
    if moment is None:
        return _ZERO_TIME
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def _alert_body(alert: Alert, rules: RuleSet) -> dict[str, Any]:
    resolved = alert.state == "resolved"
    base = rules.external_url.rstrip("/")
    return {
        "status": "resolved" if resolved else "firing",
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": _time(alert.fired_at),
        "endsAt": _time(alert.resolved_at if resolved else None),
        "generatorURL": f"{base}/alerts/{alert.fingerprint}" if base else "",
        "fingerprint": alert.fingerprint,
        "evidence": dict(alert.evidence),
    }


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    return {k: v for k, v in maps[0].items() if all(m.get(k) == v for m in maps[1:])}


def webhook_body(note: Notification, rules: RuleSet) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4) with an ``evidence`` object per alert;
    ``sentAt`` is added when it is sent."""
    alerts = [_alert_body(a, rules) for a in note.alerts]
    return {
        "version": "4",
        "groupKey": note.group_key,
        "truncatedAlerts": 0,
        "status": note.status,
        "receiver": note.receiver,
        "groupLabels": dict(note.group_labels),
        "commonLabels": _common([a["labels"] for a in alerts]),
        "commonAnnotations": _common([a["annotations"] for a in alerts]),
        "externalURL": rules.external_url,
        "alerts": alerts,
    }


def bodies(note: Notification, receiver: Receiver, rules: RuleSet) -> list[tuple[str, Any]]:
    """The (id, body) of each request ``receiver`` gets for ``note``: one, except for a
    ``retrain`` receiver, which gets one per alert whose firing is new (none on repeats
    and resolutions)."""
    hook = webhook_body(note, rules)
    if receiver.type == "webhook":
        return [(note.id, hook)]
    if receiver.type == "alertmanager":
        # A firing alert holds until twice the repeat interval, over which it is sent
        # again: Alertmanager resolves one that nobody renews (its resolve_timeout).
        holds = _time(note.created_at + timedelta(seconds=2 * rules.route.repeat_interval))
        posted = [
            {k: a[k] for k in ("labels", "startsAt", "generatorURL")}
            | {"annotations": a["annotations"] | {"evidence": json.dumps(a["evidence"])}}
            | {"endsAt": a["endsAt"] if a["status"] == "resolved" else holds}
            for a in hook["alerts"]
        ]
        return [(note.id, posted)]
    if receiver.type == "slack":
        return [(note.id, {"text": slack_text(hook)})]
    out = []
    for alert in hook["alerts"]:
        if alert["fingerprint"] in note.fresh:
            rows = alert["evidence"].get("rows") or [{}]
            body = {
                "model": alert["labels"].get("model", ""),
                "version": alert["labels"].get("version", ""),
                "rule": alert["labels"].get("alertname", ""),
                "window_start": rows[0].get("window_start"),
                "window_end": rows[0].get("window_end"),
                "fingerprint": alert["fingerprint"],
                "evidence": alert["evidence"],
            }
            out.append((f"{note.id}-{alert['fingerprint']}", body))
    return out


def slack_text(hook: dict[str, Any]) -> str:
    """A Slack message: status, group labels, then a line per alert."""
    head = ", ".join(f"{k}={v}" for k, v in hook["groupLabels"].items())
    lines = [f"[{hook['status'].upper()}:{len(hook['alerts'])}] {head}"]
    for a in hook["alerts"]:
        summary = a["annotations"].get("summary") or a["labels"].get("alertname", "")
        lines.append(f"• {summary}")
    return "\n".join(lines)


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body.

    >>> sign(b"{}", "k")[:16]
    'sha256=add853b10'
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- delivery -----------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one round of delivery did."""

    delivered: int = 0
    retried: int = 0
    given_up: int = 0


def deliver(
    store: Store,
    rules: RuleSet,
    now: datetime,
    *,
    client: httpx.Client | None = None,
    resolver: Resolver = resolve,
) -> DeliveryReport:
    """Send every due notification of the outbox once (see the module doc's policy)."""
    report = DeliveryReport()
    receivers = {r.name: r for r in rules.receivers}
    own = client is None
    http = client or httpx.Client(follow_redirects=False)
    try:
        for entry in due_notifications(store, now):
            receiver = receivers.get(entry.receiver)
            if receiver is None:
                error, retry = f"receiver {entry.receiver!r} is no longer in the rules", False
            else:
                error, retry = _send(http, entry, receiver, rules.allow, now, resolver)
            if not error:
                mark_delivered(store, entry.project, entry.notification_id, now)
                report.delivered += 1
                continue
            again = retry and entry.attempts + 1 < MAX_ATTEMPTS
            wait = timedelta(seconds=min(2**entry.attempts, 600))
            mark_failed(
                store, entry.project, entry.notification_id, error, now + wait if again else None
            )
            log.warning("notification %s to %s: %s", entry.notification_id, entry.receiver, error)
            if again:
                report.retried += 1
            else:
                report.given_up += 1
    finally:
        if own:
            http.close()
    return report


def _send(
    http: httpx.Client,
    entry: OutboxEntry,
    receiver: Receiver,
    allow: Sequence[str],
    now: datetime,
    resolver: Resolver,
) -> tuple[str, bool]:
    """Send one entry: ('', _) when delivered, else (error, whether to retry)."""
    body = json.loads(entry.body_json)
    if isinstance(body, dict) and receiver.type != "slack":
        body["sentAt"] = _time(now)
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"}
    if receiver.secret:
        headers[SIGNATURE_HEADER] = sign(raw, receiver.secret)
    url = receiver.url
    if receiver.type == "alertmanager" and not url.rstrip("/").endswith("/api/v2/alerts"):
        url = url.rstrip("/") + "/api/v2/alerts"
    for _ in range(MAX_REDIRECTS + 1):
        try:
            check_target(url, allow, resolver)
        except RefusedTarget as exc:
            return f"refused: {exc}", False
        try:
            answer = http.post(url, content=raw, headers=headers, timeout=receiver.timeout)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}", True
        if answer.is_redirect and "location" in answer.headers:
            url = urljoin(url, answer.headers["location"])
            continue
        if answer.is_success:
            return "", False
        retry = answer.status_code in (408, 429) or answer.status_code >= 500
        return f"HTTP {answer.status_code}: {answer.text[:200]}", retry
    return f"more than {MAX_REDIRECTS} redirects", False


__all__ = [
    "DeliveryReport",
    "RefusedTarget",
    "bodies",
    "check_target",
    "deliver",
    "sign",
    "slack_text",
    "webhook_body",
]
