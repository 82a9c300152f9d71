"""Transport security: the security headers of every response (API, /docs, static files,
console pages, errors), HSTS and Secure cookies only over HTTPS (TLS here or a trusted proxy's
X-Forwarded-Proto), login over plain HTTP at an intranet address, and the console's banner that
the connection is not encrypted."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anjian.core.transport import is_https, warn_unencrypted
from anjian.web.session import cookie_secure

ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
BANNER = "连接未加密"
PASSWORD = "Anjian#2026"  # the personas' password (tests/conftest.py)


def _form_login(client: TestClient, username: str) -> Any:
    """Log in through the console's form as a browser does: the form's CSRF cookie, then post."""
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token, "no CSRF token in the login form"
    data = {"username": username, "password": PASSWORD, "next": "/", "csrf": token.group(1)}
    return client.post("/login", data=data, follow_redirects=False)


def _client(node: Any, base_url: str, **kwargs: Any) -> TestClient:
    """Another client of the node's app (no lifespan: the node's threads are off in tests)."""
    return TestClient(node.client.app, base_url=base_url, **kwargs)


def _assert_hardened(r: Any, *, cached: bool = False) -> None:
    for name, value in ALWAYS.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"], r.request.url
    if cached:
        assert "no-store" not in r.headers.get("cache-control", "")
    else:
        assert r.headers["cache-control"] == "no-store", r.request.url


def _responses(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    return {
        "healthz": client.get("/healthz"),
        "api": client.get("/api/v1/enterprises", headers=auth),
        "api 401": client.get("/api/v1/enterprises"),
        "api 404": client.get("/api/v1/no-such-thing"),
        "api 422": client.post("/api/v1/auth/login", json={"username": 1}),
        "api 405": client.delete("/healthz"),
        "docs": client.get("/docs"),
        "openapi": client.get("/openapi.json"),
        "login page": client.get("/login"),
        "page 404": client.get("/no-such-page"),
    }


def test_every_response_carries_the_security_headers(personas: Any) -> None:
    auth = personas.login("admin")
    responses = _responses(personas.client, auth)
    assert [k for k, r in responses.items() if r.status_code >= 500] == []
    assert responses["api"].status_code == 200
    assert responses["api 404"].status_code == 404
    assert responses["api 422"].status_code == 422
    assert responses["page 404"].status_code == 404
    for r in responses.values():
        _assert_hardened(r)
        # served over https://testserver: HSTS
        assert r.headers["strict-transport-security"].startswith("max-age=")
    # the console keeps its own, fuller policy; the API loads nothing
    assert "script-src 'self'" in responses["login page"].headers["content-security-policy"]
    assert responses["api"].headers["content-security-policy"].startswith("default-src 'none'")
    # /docs: Swagger UI still starts (its inline script), from local assets only
    docs = responses["docs"]
    assert "script-src 'self' 'unsafe-inline'" in docs.headers["content-security-policy"]
    assert "/static/vendor/swagger-ui/" in docs.text
    # static assets may be cached (no personal data in them)
    _assert_hardened(personas.client.get("/static/console.css"), cached=True)


def test_no_hsts_over_plain_http(node: Any) -> None:
    client = _client(node, "http://10.0.0.5")
    for path in ("/healthz", "/login", "/api/v1/no-such-thing"):
        r = client.get(path)
        _assert_hardened(r)
        assert "strict-transport-security" not in r.headers, path


def test_a_server_error_carries_the_headers_too(node: Any) -> None:
    app = node.client.app

    @app.get("/api/v1/test-boom")
    def boom() -> None:
        raise RuntimeError("boom")

    r = _client(node, "https://testserver", raise_server_exceptions=False).get("/api/v1/test-boom")
    assert r.status_code == 500
    assert r.json()["detail"].startswith("服务器内部错误")
    _assert_hardened(r)
    assert "strict-transport-security" in r.headers


def test_forwarded_proto_counts_only_from_a_trusted_proxy(
    node: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings

    monkeypatch.setattr(get_settings(), "trusted_proxies", ["10.0.0.0/24"])
    https = {"X-Forwarded-Proto": "https"}
    proxy = _client(node, "http://anjian.example.gov.cn", client=("10.0.0.2", 40000))
    stranger = _client(node, "http://anjian.example.gov.cn", client=("192.168.1.9", 40000))
    r = proxy.get("/login", headers=https)
    assert "strict-transport-security" in r.headers
    assert "; secure" in r.headers["set-cookie"].lower()
    assert BANNER not in r.text
    r = stranger.get("/login", headers=https)
    assert "strict-transport-security" not in r.headers
    assert "; secure" not in r.headers["set-cookie"].lower()
    assert BANNER in r.text


def test_is_https_rules() -> None:
    trusted = ["10.0.0.2", "fd00::/8"]
    assert is_https("https", None, None, [])
    assert not is_https("http", "https", "10.0.0.2", [])  # no proxy trusted by default
    assert is_https("http", "https", "10.0.0.2", trusted)
    assert is_https("http", "HTTPS, http", "fd00::1", trusted)  # the nearest proxy's value
    assert not is_https("http", "http, https", "10.0.0.2", trusted)
    assert not is_https("http", "https", "10.0.0.3", trusted)
    assert not is_https("http", "https", "testclient", trusted)  # not an address
    assert not is_https("http", None, "10.0.0.2", trusted)


def test_cookie_secure_setting() -> None:
    assert cookie_secure("auto", True) and not cookie_secure("auto", False)
    assert cookie_secure(True, False) and not cookie_secure(False, True)


def test_cookie_secure_setting_parses_auto_true_false(monkeypatch: pytest.MonkeyPatch) -> None:
    from anjian.config import Settings

    for raw, parsed in (("auto", "auto"), ("true", True), ("false", False), ("0", False)):
        monkeypatch.setenv("ANJIAN_COOKIE_SECURE", raw)
        assert Settings().cookie_secure == parsed
    monkeypatch.delenv("ANJIAN_COOKIE_SECURE")
    assert Settings().cookie_secure == "auto"
    monkeypatch.setenv("ANJIAN_TRUSTED_PROXIES", '["10.0.0.300"]')
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings()


def test_banner_rule() -> None:
    assert warn_unencrypted(False, "10.0.0.5")
    assert warn_unencrypted(False, "anjian.example.gov.cn")
    for host in ("localhost", "127.0.0.1", "::1", "[::1]", "node.localhost"):
        assert not warn_unencrypted(False, host), host
    assert not warn_unencrypted(True, "10.0.0.5")


def test_console_login_over_plain_http_at_an_intranet_address(personas: Any) -> None:
    """Before: the CSRF cookie of the login form was Secure, so a browser on http://10.x
    dropped it and the login answered 页面已过期."""
    http = _client(personas, "http://10.0.0.5")
    form = http.get("/login")
    assert BANNER in form.text
    assert "; secure" not in form.headers["set-cookie"].lower()
    r = _form_login(http, "sheng")
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/"
    session_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in session_cookie and "samesite=strict" in session_cookie
    assert "; secure" not in session_cookie
    home = http.get("/")
    assert home.status_code == 200
    assert BANNER in home.text


def test_console_over_https_has_secure_cookies_and_no_banner(personas: Any) -> None:
    form = personas.client.get("/login")
    assert BANNER not in form.text
    assert "; secure" in form.headers["set-cookie"].lower()
    r = _form_login(personas.client, "sheng")
    assert r.status_code == 303, r.text
    assert "; secure" in r.headers["set-cookie"].lower()
    home = personas.client.get("/")
    assert home.status_code == 200
    assert BANNER not in home.text


def test_loopback_over_http_logs_in_without_banner(personas: Any) -> None:
    """The demo and the end-to-end tests run on http://127.0.0.1: no banner there."""
    http = _client(personas, "http://127.0.0.1:8000")
    r = _form_login(http, "sheng")
    assert r.status_code == 303, r.text
    assert BANNER not in http.get("/").text


def test_forced_secure_cookies_over_http(personas: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from anjian.config import get_settings

    monkeypatch.setattr(get_settings(), "cookie_secure", True)
    r = _client(personas, "http://10.0.0.5").get("/login")
    assert "; secure" in r.headers["set-cookie"].lower()
