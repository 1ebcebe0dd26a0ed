"""``/api/v1/keys``: create, list and revoke the keys of the caller's project (admin).

A revoked key is refused at once by the replica that revoked it, and by every other
replica once its key cache expires (:data:`sightline.server.auth.CACHE_SECONDS`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from sightline.server.auth import Admin
from sightline.server.ingest import json_body
from sightline.server.schemas import KeyInfoOut, KeyList, KeyOut, KeyRequest
from sightline.server.state import ERRORS, body_doc, state_of

router = APIRouter(prefix="/api/v1")
KeyId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]


@router.post(
    "/keys",
    response_model=KeyOut,
    responses=ERRORS,
    summary="Create a key of the caller's project (admin)",
    openapi_extra=body_doc(KeyRequest),
)
async def create_key(request: Request, key: Admin) -> KeyOut:
    wanted = await json_body(request, KeyRequest)
    new = await run_in_threadpool(state_of(request).store.create_key, key.project, wanted.scope)
    return KeyOut(key=new, id=new.split("_")[1], project=key.project, scope=wanted.scope)


@router.get("/keys", response_model=KeyList, responses=ERRORS, summary="The project's keys (admin)")
async def list_keys(request: Request, key: Admin) -> KeyList:
    found = await run_in_threadpool(state_of(request).store.list_keys, key.project)
    return KeyList(
        keys=[KeyInfoOut(id=k.key_id, scope=k.scope, created_at=k.created_at) for k in found]
    )


@router.delete(
    "/keys/{key_id}",
    status_code=204,
    responses=ERRORS,
    summary="Revoke a key of the caller's project (admin)",
)
async def revoke_key(key_id: KeyId, request: Request, key: Admin) -> None:
    state = state_of(request)
    await run_in_threadpool(state.store.revoke_key, key.project, key_id)
    state.keys.forget(key_id)
