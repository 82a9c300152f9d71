"""Oversized request bodies: an upload is otherwise parsed (and spooled to disk) whole before any
endpoint's own limit or the sender's login is checked, so a stranger could fill the disk or hold
a worker. The node refuses a body past ``ANJIAN_MAX_REQUEST_BYTES`` with a 413 naming the limit:
at once when the request declares its length, as soon as the limit is passed when it streams
(chunked) — before the app has read it and whoever sends it. The sync endpoint, which reads and
limits its own body, is left to do so."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

MB = 1024 * 1024


def _call(app: Any, path: str, headers: dict[str, str], chunks: list[bytes]) -> dict[str, Any]:
    """One HTTP request straight to the ASGI app, its body sent in ``chunks``: the answer's
    status, headers, body, and how many chunks the app asked for."""
    asked = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        if asked <= len(chunks):
            return {
                "type": "http.request",
                "body": chunks[asked - 1],
                "more_body": asked < len(chunks),
            }
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("203.0.113.9", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {
        "status": start["status"],
        "headers": {k.decode(): v.decode() for k, v in start["headers"]},
        "body": body,
        "asked": asked,
    }


@pytest.fixture
def small_limit_app(personas: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The node's app built with a 1 MB request limit."""
    from anjian.app import create_app
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_MAX_REQUEST_BYTES", str(MB))
    get_settings.cache_clear()
    yield create_app()
    get_settings.cache_clear()


@pytest.mark.one_backend
def test_a_body_past_the_limit_is_refused_before_it_is_read(small_limit_app: Any) -> None:
    app = small_limit_app
    multipart = {"content-type": "multipart/form-data; boundary=x"}
    # declared: refused at once, nothing read, whoever sends it
    declared = _call(
        app, "/api/v1/enterprises/import", {**multipart, "content-length": str(10**12)}, [b"x"]
    )
    assert declared["status"] == 413 and declared["asked"] == 0
    answer = json.loads(declared["body"])
    assert answer["field"] == "body" and "1 MB" in answer["detail"]
    assert declared["headers"]["x-content-type-options"] == "nosniff"
    # streamed without a length: refused once the limit is passed, the rest never asked for
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n\r\n'
    chunks = [head] + [b"\0" * (256 * 1024)] * 40
    streamed = _call(app, "/api/v1/enterprises/import", multipart, chunks)
    assert streamed["status"] == 413 and streamed["asked"] <= 6
    # JSON too, on the gateways' ingest (no token): the same
    ingest = _call(
        app, "/api/v1/monitoring/readings", {"content-type": "application/json"}, chunks[1:]
    )
    assert ingest["status"] == 413
    # under the limit the request goes on to the endpoint (which wants a login)
    small = _call(
        app, "/api/v1/enterprises/import", multipart, [head, b"x" * 1000, b"\r\n--x--\r\n"]
    )
    assert small["status"] == 401
    # the sync endpoint reads its own body, with its own limit and refusal count
    sync = _call(app, "/api/v1/sync/push", {"content-length": str(2 * MB)}, [b"\0" * (2 * MB)])
    assert sync["status"] != 413


def test_the_limit_is_at_least_a_megabyte(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from anjian.config import Settings

    monkeypatch.setenv("ANJIAN_MAX_REQUEST_BYTES", "1000")
    with pytest.raises(ValidationError, match="max_request_bytes"):
        Settings()
