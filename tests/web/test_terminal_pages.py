"""The mobile enforcement terminal's pages: the app shell and its service worker load without a
session (so they can be kept for offline use) and carry no data; pairing needs the console
session of a registered, active officer, binds a terminal to that officer only (audited) and
hands its token once to the app."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

API = "/api/v1/enforcement"
TOKEN = re.compile(r'data-pair-token="(tml_[A-Za-z0-9_-]+)"')


def _officer(node: Any, headers: dict[str, str], username: str, cert: str) -> int:
    if username not in node.users:
        node.add_user(username, "official", "140622", display_name=f"执法员{username}")
    r = node.client.post(
        f"{API}/inspectors",
        headers=headers,
        json={"user_id": node.users[username], "certificate_no": cert},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture
def officers(personas: Any) -> Any:
    """yingxian and zf1 registered as officers of 应县 (by yingxian)."""
    headers = personas.login("yingxian")
    personas.officer_ids = {
        "yingxian": _officer(personas, headers, "yingxian", "C1"),
        "zf1": _officer(personas, headers, "zf1", "C2"),
    }
    personas.api_headers = headers
    return personas


def test_the_shell_and_its_worker_load_without_a_session_and_hold_no_data(console: Any) -> None:
    client = console.node.client
    client.cookies.clear()
    r = client.get("/terminal", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/terminal/"
    r = client.get("/terminal/")
    assert r.status_code == 200
    page = r.text
    assert 'id="app"' in page and 'src="/static/terminal/app.js"' in page
    assert 'rel="manifest" href="/static/terminal/manifest.json"' in page
    assert "data-pair-token" not in page
    # names, not codes: the app gets the Chinese labels of states and categories with the shell
    labels = html.unescape(re.search(r'data-labels="([^"]*)"', page).group(1))
    assert '"on_site": "检查中"' in labels and '"coal_mine": "煤矿"' in labels
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1]
    assert "<script>" not in page  # no inline script: the CSP would refuse it

    r = client.get("/terminal/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    # the worker may fetch the shell and the API from this origin (its own policy applies)
    assert r.headers["content-security-policy"] == "default-src 'self'"
    assert "/api/" in r.text and "caches.open" in r.text
    for asset in ("app.js", "store.js", "sync.js", "ui.js", "terminal.css", "manifest.json"):
        assert client.get(f"/static/terminal/{asset}").status_code == 200, asset
    manifest = client.get("/static/terminal/manifest.json").json()
    assert manifest["scope"] == "/terminal/" and manifest["start_url"] == "/terminal/"


def test_pairing_needs_a_console_session(console: Any) -> None:
    client = console.node.client
    client.cookies.clear()
    r = client.get("/terminal/pair", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/terminal/pair"
    r = client.post("/terminal/pair", data={"name": "平板"}, follow_redirects=False)
    assert r.status_code == 303  # to the login page: nothing bound


def test_an_officer_pairs_a_terminal_for_themselves_and_its_token_works(
    officers: Any, console: Any
) -> None:
    node = officers
    console.login("zf1")
    page = node.client.get("/terminal/pair")
    assert page.status_code == 200
    assert "执法员zf1" in page.text and "C2" in page.text
    csrf = console.csrf("/terminal/pair")
    # without the session's CSRF token: refused, nothing bound
    r = node.client.post("/terminal/pair", data={"name": "平板 A"})
    assert r.status_code == 403
    r = node.client.post("/terminal/pair", data={"name": "  ", "csrf": csrf})
    assert r.status_code == 422 and "请填写终端名称" in r.text
    r = node.client.post("/terminal/pair", data={"name": "王明的平板", "csrf": csrf})
    assert r.status_code == 200
    match = TOKEN.search(r.text)
    assert match, "the shell carries the new token for the app"
    assert 'data-pair-officer="执法员zf1"' in r.text
    assert r.headers["cache-control"] == "no-store"
    token = match.group(1)

    tablet = {"Authorization": f"Bearer {token}"}
    assert node.client.get("/api/v1/terminal/changes", headers=tablet).status_code == 200
    # bound to zf1's officer record — the signed-in official — and nobody else
    listed = node.client.get(
        f"{API}/inspectors/{node.officer_ids['zf1']}/terminals", headers=node.api_headers
    ).json()
    assert [t["name"] for t in listed] == ["王明的平板"]
    others = node.client.get(
        f"{API}/inspectors/{node.officer_ids['yingxian']}/terminals", headers=node.api_headers
    ).json()
    assert others == []
    assert len(node.audits("enforcement.terminal.bind")) == 1
    # revoked from the console's API, the token stops working
    r = node.client.post(
        f"{API}/inspectors/{node.officer_ids['zf1']}/terminals/{listed[0]['id']}/revoke",
        headers=node.api_headers,
    )
    assert r.status_code == 200
    assert node.client.get("/api/v1/terminal/changes", headers=tablet).status_code == 401


@pytest.mark.parametrize(
    ("username", "why"),
    [
        ("shanyin", "尚未登记为执法人员"),  # an official, not registered as an officer
        ("qiye", "只有执法人员"),  # an enterprise user
        ("admin", "只有执法人员"),
    ],
)
def test_only_registered_officers_pair(
    officers: Any, console: Any, username: str, why: str
) -> None:
    console.login(username)
    r = officers.client.get("/terminal/pair")
    assert r.status_code == 403 and why in r.text
    r = officers.client.post("/terminal/pair", data={"name": "平板", "csrf": console.csrf()})
    assert r.status_code == 403
    assert officers.audits("enforcement.terminal.bind") == []


def test_an_inactive_officer_cannot_pair(officers: Any, console: Any) -> None:
    r = officers.client.post(
        f"{API}/inspectors/{officers.officer_ids['zf1']}/active",
        params={"active": "false"},
        headers=officers.api_headers,
    )
    assert r.status_code == 200, r.text
    console.login("zf1")
    r = officers.client.get("/terminal/pair")
    assert r.status_code == 403 and "已停用" in r.text
