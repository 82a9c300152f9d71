"""Transport security: whether a request came over HTTPS, and the security headers every
response carries (the API, ``/docs``, static files, console pages and errors alike).

A request counts as HTTPS when the server itself terminated TLS (ASGI scheme ``https``), or when
a reverse proxy listed in ``ANJIAN_TRUSTED_PROXIES`` says so with ``X-Forwarded-Proto: https``.
Anyone else's ``X-Forwarded-Proto`` is ignored: a client cannot talk the node into believing a
plain-HTTP connection is encrypted."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping, MutableMapping
from functools import lru_cache
from typing import Any

from anjian.config import get_settings

# JSON, files and error bodies load nothing and may be framed by no one.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other intranet hosts share domains
STATIC_PREFIX = "/static/"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def is_trusted_proxy(client_host: str | None, trusted: Iterable[str]) -> bool:
    """Whether ``client_host`` is one of the ``trusted`` proxies (addresses or networks)."""
    if not client_host:
        return False
    try:
        address = ipaddress.ip_address(client_host)
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(trusted)))


def is_https(
    scheme: str, forwarded_proto: str | None, client_host: str | None, trusted: Iterable[str]
) -> bool:
    """Whether a request reached the node encrypted: TLS terminated here, or at a trusted proxy
    that says so (the first value of ``X-Forwarded-Proto``, the one the nearest proxy set)."""
    if scheme in ("https", "wss"):
        return True
    if not forwarded_proto or not is_trusted_proxy(client_host, trusted):
        return False
    return forwarded_proto.split(",")[0].strip().lower() == "https"


def scope_is_https(scope: Mapping[str, Any]) -> bool:
    """:func:`is_https` of an ASGI request scope, with the configured trusted proxies."""
    proto = None
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            proto = value.decode("latin-1")
            break
    client = scope.get("client")
    return is_https(
        scope.get("scheme", "http"),
        proto,
        client[0] if client else None,
        get_settings().trusted_proxies,
    )


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def warn_unencrypted(https: bool, host: str | None) -> bool:
    """Whether the console warns that the connection is not encrypted (等保 asks for encrypted
    transport): over plain HTTP to any host but the machine itself. On the loopback nothing
    crosses a network (a demo, a developer), so a warning there would only be noise."""
    if https:
        return False
    name = (host or "").lower()
    return not (name in LOOPBACK_HOSTS or name.endswith(".localhost") or name.startswith("127."))


def security_headers(path: str, https: bool) -> dict[str, str]:
    """The headers a response to ``path`` carries unless it set its own (the console's pages
    set a fuller Content-Security-Policy). Everything but the static assets may hold personal
    data, so nothing else is kept in a cache; HSTS only over HTTPS (browsers ignore it on
    plain HTTP, and announcing it there would lock out a node that has no certificate)."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": DEFAULT_CSP,
    }
    if not path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeaders:
    """ASGI middleware adding :func:`security_headers` to every HTTP response, streamed ones
    too (it only touches the response's start message)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = security_headers(scope.get("path", ""), scope_is_https(scope))

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [
                    (name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in wanted.items()
                    if name.lower().encode("latin-1") not in present
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _TooLarge(Exception):
    """The request body went past the limit (raised from inside the app's ``receive``)."""


class BodyLimit:
    """ASGI middleware refusing a request body larger than ``max_bytes`` with a 413, before
    the app has parsed any of it: at once when the request declares such a length, and as
    soon as that many bytes have come when it does not (chunked). A multipart upload is
    otherwise spooled whole to disk before any endpoint's own limit is asked; a sender need not
    be logged in to send one. Paths under ``exempt`` read their bodies themselves."""

    def __init__(self, app: Any, max_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app, self.max_bytes, self.exempt = app, max_bytes, exempt

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received, over, started = 0, False, False

        async def limited_receive() -> Any:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    over = True
                    raise _TooLarge
            return message

        async def guarded_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if over:
                return  # the app's answer to a body it did not get whole: replaced below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: MutableMapping[str, Any], send: Any) -> None:
        mb = self.max_bytes // 1024 // 1024
        body = json.dumps(
            {"detail": f"请求过大，最大 {mb} MB (request body too large)", "field": "body"},
            ensure_ascii=False,
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ] + [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in security_headers(
                scope.get("path", ""), scope_is_https(scope)
            ).items()
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
