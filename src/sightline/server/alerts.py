"""``/api/v1/alerts``, ``/api/v1/rules`` and ``/api/v1/silences``: alerting's routes.

The routes only read and write through ``sightline.store.alerts`` and the rules in force
(``Settings.alerting``); evaluation runs after each scheduler pass.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from sightline._time import parse_duration
from sightline.alerts import Alerting
from sightline.alerts.records import alert_of
from sightline.errors import InvalidInputError
from sightline.server import bodies as b
from sightline.server.auth import Admin, Reader
from sightline.server.schemas import Strict
from sightline.server.state import ERRORS, body_doc, state_of
from sightline.store import Store, as_utc, utcnow
from sightline.store import alerts as stored

router = APIRouter(prefix="/api/v1")

STATES = ("pending", "firing", "resolved")


class SilenceBody(Strict):
    """Mute the alerts whose labels match every glob of ``matchers`` for ``duration``
    (``30m``, ``4h``, ``2d``), starting now."""

    matchers: Annotated[dict[str, str], Field(min_length=1, max_length=20)]
    duration: Annotated[str, Field(max_length=20)] = "1h"
    comment: Annotated[str, Field(max_length=1000)] = ""


def _alerting(request: Request) -> Alerting:
    alerting = state_of(request).settings.alerting
    if alerting is None:
        raise b.ApiError(404, "alerting is off in this collector (serve --rules)", None)
    return alerting


def _alert_out(row: stored.StoredAlert) -> dict[str, Any]:
    a = alert_of(row)
    return {
        "rule": a.rule,
        "fingerprint": a.fingerprint,
        "model": a.labels.get("model", ""),
        "version": a.labels.get("version", ""),
        "state": a.state,
        "severity": a.labels.get("severity", ""),
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "active_at": _iso(a.active_at),
        "fired_at": _iso(a.fired_at),
        "resolved_at": _iso(a.resolved_at),
        "evidence": dict(a.evidence),
    }


def _iso(moment: Any) -> str | None:
    return None if moment is None else as_utc(moment).isoformat() + "Z"


@router.get("/alerts", responses=ERRORS, summary="Alerts and their states")
async def list_alerts(
    request: Request,
    key: Reader,
    state: Annotated[str | None, Query(pattern="^(pending|firing|resolved)$")] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    store = state_of(request).store
    rows = await run_in_threadpool(stored.alert_states, store, key.project)
    alerts = [_alert_out(r) for r in rows]
    alerts = [
        a
        for a in alerts
        if (state is None or a["state"] == state) and (model is None or a["model"] == model)
    ]
    return {"alerts": alerts}


@router.get(
    "/alerts/history", responses=ERRORS, summary="Each transition of the alerts, newest first"
)
async def alert_history(
    request: Request,
    key: Reader,
    model: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Every move of every alert (``pending``, ``firing``, ``resolved``) with its time and
    the evidence it had then; ``model`` keeps one model's, ``limit`` the newest."""
    store = state_of(request).store
    rows = await run_in_threadpool(stored.recent_transitions, store, key.project, limit)
    moves = []
    for t in rows:
        a = alert_of(stored.StoredAlert(t.rule_id, t.subject, t.state, t.at, t.detail_json))
        if model is not None and a.labels.get("model", "") != model:
            continue
        moves.append(
            {
                "at": _iso(t.at),
                "state": t.state,
                "rule": a.rule,
                "fingerprint": a.fingerprint,
                "model": a.labels.get("model", ""),
                "version": a.labels.get("version", ""),
                "severity": a.labels.get("severity", ""),
                "summary": a.annotations.get("summary", ""),
                "evidence": dict(a.evidence),
            }
        )
    return {"transitions": moves}


@router.get("/rules", responses=ERRORS, summary="The alert rules in force")
async def list_rules(request: Request, key: Reader) -> dict[str, Any]:
    rules = _alerting(request).rules
    receivers = [{"name": r.name, "type": r.type, "url": r.url} for r in rules.receivers]
    return {
        "rules": [asdict(r) for r in rules.rules],
        "slos": [asdict(s) for s in rules.slos],
        "receivers": receivers,  # secrets stay out
        "route": asdict(rules.route),
        "allow": list(rules.allow),
    }


@router.post("/rules/reload", responses=ERRORS, summary="Read the rules file again (admin)")
async def reload_rules(request: Request, key: Admin) -> dict[str, Any]:
    alerting = _alerting(request)
    try:
        rules = await run_in_threadpool(alerting.reload)
    except InvalidInputError as exc:
        raise b.ApiError(422, f"rules not reloaded: {exc}", exc.field) from None
    return {"rules": len(rules.rules), "receivers": len(rules.receivers)}


@router.post(
    "/silences",
    status_code=201,
    responses=ERRORS,
    summary="Mute alerts by label matchers for a while (admin)",
    openapi_extra=body_doc(SilenceBody),
)
async def add_silence(request: Request, key: Admin) -> dict[str, Any]:
    body = b.parse_json(await request.body(), SilenceBody)
    try:
        seconds = parse_duration(body.duration.strip(), field="duration")
    except InvalidInputError as exc:
        raise b.ApiError(422, str(exc), exc.field) from None
    now = utcnow()
    silence = stored.StoredSilence(
        secrets.token_hex(8),
        body.matchers,
        now,
        now + timedelta(seconds=seconds),
        body.comment,
        now,
    )
    await run_in_threadpool(stored.add_silence, state_of(request).store, key.project, silence)
    return _silence_out(silence)


@router.get("/silences", responses=ERRORS, summary="Silences (admin)")
async def list_silences(request: Request, key: Admin) -> dict[str, Any]:
    rows = await run_in_threadpool(stored.silences, state_of(request).store, key.project)
    return {"silences": [_silence_out(s) for s in rows]}


@router.delete("/silences/{silence_id}", responses=ERRORS, summary="End a silence (admin)")
async def delete_silence(silence_id: str, request: Request, key: Admin) -> dict[str, str]:
    store = state_of(request).store
    await run_in_threadpool(stored.delete_silence, store, key.project, silence_id)
    return {"deleted": silence_id}


def _silence_out(s: stored.StoredSilence) -> dict[str, Any]:
    return {
        "id": s.silence_id,
        "matchers": s.matchers,
        "starts_at": _iso(s.starts_at),
        "ends_at": _iso(s.ends_at),
        "comment": s.comment,
    }


def alert_exposition(store: Store, project: str) -> bytes:
    """``sightline_alert_active{rule,model,version,severity,state}`` for ``/metrics``: how
    many alerts of ``project`` are pending or firing with those labels (the columns of one
    rule and version add up)."""
    counts: dict[tuple[str, ...], int] = {}
    for row in stored.alert_states(store, project):
        if row.state != "resolved":
            labels = json.loads(row.detail_json)["labels"]
            got = (labels.get(n, "") for n in ("model", "version", "severity"))
            values = (row.rule_id, *got, row.state)
            counts[values] = counts.get(values, 0) + 1
    lines = [
        "# HELP sightline_alert_active Pending or firing alerts",
        "# TYPE sightline_alert_active gauge",
    ]
    names = ("rule", "model", "version", "severity", "state")
    for key, n in sorted(counts.items()):
        text = ",".join(f'{k}="{_escape(v)}"' for k, v in zip(names, key, strict=True))
        lines.append(f"sightline_alert_active{{{text}}} {float(n)}")
    return ("\n".join(lines) + "\n").encode()


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


__all__ = ["alert_exposition", "router"]
