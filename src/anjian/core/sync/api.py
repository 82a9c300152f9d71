"""Node-to-node endpoints. Authenticated by the link key (HMAC-SM3), not by a user session."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from anjian.core.errors import AnjianError
from anjian.core.sync import service
from anjian.db import unit_of_work

router = APIRouter(prefix="/api/v1/sync", tags=["sync 分级转发"])
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
SEALED = "application/vnd.anjian.sync"


def _push(message: bytes) -> bytes:
    with unit_of_work() as db:
        try:
            result, link = service.receive_push(db, message)
        except AnjianError:
            db.commit()  # keep the audit record of the refusal
            raise
        return service.push_response(link, result)


def _pull(message: bytes) -> bytes:
    with unit_of_work() as db:
        try:
            return service.serve_pull(db, message)
        except AnjianError:
            db.commit()
            raise


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_MESSAGE_BYTES:
        raise AnjianError("同步数据过大 (message too large)")
    return body


@router.post("/push", response_class=Response)
async def push(request: Request) -> Response:
    """A child node delivers a sealed batch of changes; answers with the stored sequence."""
    return Response(await run_in_threadpool(_push, await _body(request)), media_type=SEALED)


@router.post("/pull", response_class=Response)
async def pull(request: Request) -> Response:
    """A child node fetches the directives and notices addressed to its jurisdiction."""
    return Response(await run_in_threadpool(_pull, await _body(request)), media_type=SEALED)
