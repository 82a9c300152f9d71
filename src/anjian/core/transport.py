"""Transport security: whether a request came over HTTPS, and the security headers every
response carries (the API, ``/docs``, static files, console pages and errors alike).

A request counts as HTTPS when the server itself terminated TLS (ASGI scheme ``https``), or when
a reverse proxy listed in ``ANJIAN_TRUSTED_PROXIES`` says so with ``X-Forwarded-Proto: https``.
Anyone else's ``X-Forwarded-Proto`` is ignored: a client cannot talk the node into believing a
plain-HTTP connection is encrypted."""

from __future__ import annotations

import ipaddress
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
