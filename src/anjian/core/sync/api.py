"""Node-to-node endpoints. Authenticated by the link key (HMAC-SM3), not by a user session."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from anjian.core.errors import AnjianError
from anjian.core.iam.deps import client_ip
from anjian.core.sync import service
from anjian.core.sync.guard import Source, SyncGuard
from anjian.db import unit_of_work

router = APIRouter(prefix="/api/v1/sync", tags=["sync 分级转发"])
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
SEALED = "application/vnd.anjian.sync"


def _push(message: bytes, source: Source) -> bytes:
    with unit_of_work() as db:
        try:
            result, link = service.receive_push(db, message, source=source)
        except AnjianError:
            db.commit()  # keep the audit record of the refusal
            raise
        source.guard.write_summaries(db)
        return service.push_response(link, result)


def _pull(message: bytes, source: Source) -> bytes:
    with unit_of_work() as db:
        try:
            answer = service.serve_pull(db, message, source)
        except AnjianError:
            db.commit()
            raise
        source.guard.write_summaries(db)
        return answer


async def _source_and_body(request: Request) -> tuple[Source, bytes]:
    """Who sends (a client address over its refusal limit is answered 429 unread) and the
    body, read no further than the size limit."""
    guard: SyncGuard = request.app.state.sync_guard
    source = Source(guard, client_ip(request))
    guard.admit(source.ip)
    declared = request.headers.get("content-length", "")
    too_large = declared.isdigit() and int(declared) > MAX_MESSAGE_BYTES
    body = bytearray()
    if not too_large:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_MESSAGE_BYTES:
                too_large = True
                break
    if too_large:
        guard.oversized(source.ip)
        raise AnjianError("同步数据过大 (message too large)", field="body")
    return source, bytes(body)


@router.post("/push", response_class=Response)
async def push(request: Request) -> Response:
    """A child node delivers a sealed batch of changes; answers with the stored sequence."""
    source, body = await _source_and_body(request)
    return Response(await run_in_threadpool(_push, body, source), media_type=SEALED)


@router.post("/pull", response_class=Response)
async def pull(request: Request) -> Response:
    """A child node fetches the directives and notices addressed to its jurisdiction."""
    source, body = await _source_and_body(request)
    return Response(await run_in_threadpool(_pull, body, source), media_type=SEALED)
