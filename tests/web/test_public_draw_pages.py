"""The public page of random draws (双随机一公开), on both databases: reachable without a
session, it lists the draws this node made and shows one with its enterprises (name and
division), the number of officers of each check, the seed, the population hash and the node's
recomputation — and no personal data: no officer's name, certificate number or phone. A draw
received from another node is not published here; requests are rate limited per address."""

from __future__ import annotations

import re
from typing import Any

import pytest
from enforcement_pages_world import CERTIFICATE, OFFICERS, build

from anjian.core.ratelimit import RateLimiter
from anjian.enforcement.models import Draw
from enforcement_world import API, COUNTY


@pytest.fixture
def drawn(console: Any) -> tuple[Any, dict[str, Any]]:
    """应县 with a draw of three enterprises (made through the API), and the console logged
    out."""
    node = build(console)
    r = node.client.post(
        f"{API}/draws",
        headers=node.headers,
        json={"division_code": COUNTY, "enterprise_count": 3, "seed": "公开-2026"},
    )
    assert r.status_code == 201, r.text
    node.client.cookies.clear()  # logged out
    return node, r.json()


def _personal_data(draw: dict[str, Any]) -> list[str]:
    """Everything of the people behind a draw that must never be published."""
    team = [m for e in draw["enterprises"] for m in e["inspectors"]]
    assert team
    found = [m["name"] for m in team] + [m["certificate_no"] for m in team]
    found += list(OFFICERS.values()) + [CERTIFICATE.format(n) for n in range(1, 5)]
    return [*found, "13800138000", "certificate_no", "inspector"]


def test_the_public_page_works_logged_out_and_publishes_no_personal_data(drawn: Any) -> None:
    node, draw = drawn
    r = node.client.get("/public/draws", follow_redirects=False)
    assert r.status_code == 200, r.text
    assert "双随机抽查结果公示" in r.text and "应县" in r.text
    assert f'href="/public/draws/{draw["id"]}"' in r.text
    assert "anjian_session" not in r.headers.get("set-cookie", "")
    r = node.client.get(f"/public/draws/{draw['id']}", follow_redirects=False)
    assert r.status_code == 200, r.text
    html = r.text
    for e in draw["enterprises"]:
        assert e["name"] in html
    assert len(re.findall(r'class="public-check"', html)) == 3
    assert re.findall(r'<td class="text-end">(\d+)</td></tr>', html) == ["2", "2", "2"]
    assert "公开-2026" in html and draw["population_hash"] in html
    assert "复核一致" in html
    for secret in _personal_data(draw):
        assert secret not in html, secret
    assert "退出" not in html and 'name="csrf"' not in html  # not the console shell
    # The console's own page of the draw needs a session.
    r = node.client.get(f"/enforcement/draws/{draw['id']}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_only_the_draws_this_node_made_are_published(drawn: Any) -> None:
    node, draw = drawn
    assert node.client.get("/public/draws/999999").status_code == 404
    with node.db() as s:  # as if it had come up from a county node
        s.get(Draw, draw["id"]).origin_node = "node-140622"
    assert node.client.get(f"/public/draws/{draw['id']}").status_code == 404
    html = node.client.get("/public/draws").text
    assert f"/public/draws/{draw['id']}" not in html and "暂无公示的抽查结果" in html


def test_the_public_page_is_rate_limited_per_address(drawn: Any) -> None:
    node, draw = drawn
    node.client.app.state.public_draws_limiter = RateLimiter(2, 60.0)
    assert node.client.get("/public/draws").status_code == 200
    assert node.client.get(f"/public/draws/{draw['id']}").status_code == 200
    r = node.client.get("/public/draws")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "请求过于频繁" in r.text
