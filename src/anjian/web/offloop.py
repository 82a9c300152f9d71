"""Console form posts off the server's event loop.

A page that takes a form post is an ``async`` handler, to read the form; what it then does —
the service call, its audit record, a refusal's audit — is synchronous database work, which
may wait for another writer (SQLite's write lock, the audit chain's head on PostgreSQL). Run
in the event loop, that wait would hold every other request of the node, /healthz included.
So each such handler runs in a worker thread, in an event loop of its own: the form is read
(and cached) on the server's loop first, and nothing the handler awaits afterwards touches the
connection."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


def _off_the_loop(handler: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
    @functools.wraps(handler)  # FastAPI reads the handler's parameters through __wrapped__
    async def in_a_worker(**values: Any) -> Any:
        for value in values.values():
            if isinstance(value, Request):
                await value.form()  # read here, on the server's loop; cached for the handler
        return await run_in_threadpool(lambda: asyncio.run(handler(**values)))

    in_a_worker.off_the_loop = True  # type: ignore[attr-defined]
    return in_a_worker


class PageRoute(APIRoute):
    """The route of a console page: a form post's coroutine handler runs in a worker thread
    (see the module); everything else as FastAPI has it."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        if "POST" in methods and asyncio.iscoroutinefunction(endpoint):
            endpoint = _off_the_loop(endpoint)
        super().__init__(path, endpoint, **kwargs)


def page_routes() -> APIRouter:
    """A router of console pages: kept out of the OpenAPI, form posts off the event loop."""
    return APIRouter(include_in_schema=False, route_class=PageRoute)
