"""Server-sent events of the console's live pages: the wire format, and a watch that tells a
page when what it shows has changed (it then reloads its parts itself).

A stream is authenticated by the console's cookie, checks the session again now and then
without counting as activity, ends after a minute (the browser reconnects at once) so a server
shutting down never waits on an open page, and sends a comment when quiet so proxies keep it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from anjian.core.errors import AnjianError
from anjian.core.iam.deps import SESSION_COOKIE
from anjian.core.metrics import LIVE_STREAMS
from anjian.core.scope import Scope
from anjian.web.session import login_url, stream_scope

log = logging.getLogger("anjian.web.streams")

POLL_S = 2.0  # how often a watch reads what its page shows
SESSION_CHECK_S = 30.0
HEARTBEAT_S = 15.0
MAX_S = 60.0
RETRY_MS = 1000
HEADERS = {
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # a reverse proxy must pass events on at once
    "X-Content-Type-Options": "nosniff",
}


def sse(event: str, data: str, event_id: int | None = None) -> str:
    """One server-sent event (``data`` split over ``data:`` lines)."""
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


async def _watch(
    request: Request,
    token: str,
    read: Callable[[Scope], str],
    since: str,
    back: str,
    poll_s: float,
) -> AsyncIterator[str]:
    LIVE_STREAMS.inc()
    try:
        async for chunk in _watching(request, token, read, since, back, poll_s):
            yield chunk
    finally:
        LIVE_STREAMS.dec()


async def _watching(
    request: Request,
    token: str,
    read: Callable[[Scope], str],
    since: str,
    back: str,
    poll_s: float,
) -> AsyncIterator[str]:
    logout = sse("logout", login_url(back, "timeout"))
    scope: Scope | None = None
    opened = last_check = last_beat = time.monotonic()
    yield f"retry: {RETRY_MS}\n\n"
    while not await request.is_disconnected():
        now = time.monotonic()
        if now - opened >= MAX_S:
            return
        if scope is None or now - last_check >= SESSION_CHECK_S:
            try:
                scope = await run_in_threadpool(stream_scope, token)
                last_check = now
            except OperationalError as exc:  # the database is away: check at the next poll
                log.warning("stream could not check its session: %s", exc.orig or exc)
                await asyncio.sleep(poll_s)
                continue
            if scope is None:  # logged out, locked or idle too long
                yield logout
                return
        try:
            current = await run_in_threadpool(read, scope)
        except OperationalError as exc:
            log.warning("stream could not read: %s", exc.orig or exc)
            current = since
        except AnjianError:  # no longer readable (scope changed): the reload shows why
            current = "gone"
        if current != since:
            yield sse("changed", current)
            return  # the page reloads its parts and listens again from what it now shows
        if now - last_beat >= HEARTBEAT_S:
            yield ": keep-alive\n\n"
            last_beat = now
        await asyncio.sleep(poll_s)


def watch(
    request: Request,
    read: Callable[[Scope], str],
    *,
    since: str,
    back: str,
    poll_s: float = POLL_S,
) -> StreamingResponse:
    """A stream that sends ``changed`` (with the new revision) once ``read(scope)`` — the
    revision of what the page shows, read in a unit of work of its own — differs from
    ``since``, the revision the page was rendered with, and then ends; ``logout`` with the
    login URL (back to ``back``) when the session has ended. ``read`` must raise for a record
    the user may no longer see (the stream then fails like any request)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    return StreamingResponse(
        _watch(request, token, read, since, back, poll_s),
        media_type="text/event-stream",
        headers=HEADERS,
    )
