"""The one map's page (一张图, /onemap): in the side menu beside 企业地图 for staff and enterprise
users; the layer panel lists the layers a user may show (the enterprises and the division
outlines on at first, the emergency layers and the outlines for staff only) with their legends and filters; the map starts framed on the
user's jurisdiction (an enterprise user's own enterprise) and draws from the features API with
the console's cookie, which keeps to the scope. No inline script (the CSP forbids it)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from anjian.core.clock import today_in_china

POINT = "/api/v1/map/features?layer={}&bbox=112,39,114,40.5&zoom=9"
STAFF_ONLY = ("emergency_resources", "emergency_events", "threat_zones", "divisions")


def _data(html: str) -> dict[str, Any]:
    raw = re.search(r'<script type="application/json" id="onemap-data">(.*?)</script>', html, re.S)
    assert raw, "no map data in the page"
    return json.loads(raw.group(1))


@pytest.mark.parametrize("who", ["sheng", "shuozhou", "yingxian", "jianchaju", "qiye"])
def test_the_page_shows_the_layers_a_user_may_show(console: Any, who: str) -> None:
    console.login(who)
    r = console.node.client.get("/onemap")
    assert r.status_code == 200, r.text
    html = r.text
    assert 'href="/onemap"' in html and 'href="/map"' in html  # 一张图 beside 企业地图
    assert re.search(r'<li class="nav-item active">\s*<a class="nav-link" href="/onemap">', html)
    data = _data(html)
    names = [layer["name"] for layer in data["layers"]]
    staff = who != "qiye"
    assert ("threat_zones" in names) is staff
    assert names[:3] == ["enterprises", "risk", "major_hazards"]
    for name in names:
        assert f'id="layer-{name}"' in html
    # the enterprises, over the division outlines (staff: an enterprise's scope is not a place)
    on = ["enterprises", "divisions"] if staff else ["enterprises"]
    assert [la["name"] for la in data["layers"] if la["on"]] == on
    assert re.search(r'id="layer-enterprises"[^>]* checked', html)
    assert not re.search(r'id="layer-risk"[^>]* checked', html)
    if not staff:
        assert not any(f'id="layer-{name}"' in html for name in STAFF_ONLY)
    # legends and the filters the panel offers
    enterprises = data["layers"][0]
    assert enterprises["legend"][0] == {"kind": "coal_mine", "label": "煤矿", "colour": "#1d273b"}
    assert enterprises["selects"][0]["name"] == "category"
    accidents = next(la for la in data["layers"] if la["name"] == "accidents")
    year = next(s for s in accidents["selects"] if s["name"] == "year")
    assert year["options"][0] == [str(today_in_china().year), f"{today_in_china().year} 年"]
    zones = next((la for la in data["layers"] if la["name"] == "threat_zones"), None)
    assert zones is None or zones["geometry"] == "polygon"
    assert data["api"] == "/api/v1/map/features"
    # scripts from /static only; the page's data is JSON, not script
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert 'src="/static/onemap.js"' in html
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_the_map_starts_on_the_users_jurisdiction(console: Any) -> None:
    client = console.node.client
    console.login("yingxian")
    county = _data(client.get("/onemap").text)
    assert county["frame"] == [[39.554247, 113.191098]]  # 应县's centroid
    assert county["tiles"] is None and county["places"][0]["name"] == "应县"
    console.login("shuozhou")
    city = _data(client.get("/onemap").text)
    assert len(city["frame"]) == 6  # 朔州市 and the five of its children with a centroid
    assert {"name": "山阴县", "lng": 112.816413, "lat": 39.527893} in city["places"]
    console.login("qiye")
    firm = _data(client.get("/onemap").text)
    assert firm["frame"] == [[39.55, 113.19]] and firm["places"] == []  # its own enterprise


def test_with_a_base_map_the_page_names_its_tiles_and_no_places(
    console: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_MAP_TILE_URL", "http://t{s}.tiles.example.cn/{z}/{x}/{y}.png")
    get_settings.cache_clear()
    console.login("shuozhou")
    r = console.node.client.get("/onemap")
    data = _data(r.text)
    assert data["tiles"]["url"] == "http://t{s}.tiles.example.cn/{z}/{x}/{y}.png"
    assert data["places"] == [] and len(data["frame"]) == 6
    assert "http://*.tiles.example.cn" in r.headers["content-security-policy"]


def test_the_console_cookie_reads_the_features_in_scope(console: Any) -> None:
    client = console.node.client
    client.cookies.clear()
    assert client.get("/onemap", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get(POINT.format("enterprises")).status_code == 401
    for who, seen in (
        ("yingxian", ["应县金鼎煤业有限公司"]),
        ("shanyin", ["山阴县晋北化工有限公司"]),
        ("qiye", ["应县金鼎煤业有限公司"]),
    ):
        console.login(who)
        r = client.get(POINT.format("enterprises"))  # the session cookie, as onemap.js sends it
        assert r.status_code == 200, r.text
        assert [f["properties"]["name"] for f in r.json()["features"]] == seen
    assert client.get(POINT.format("threat_zones")).status_code == 403  # qiye: staff layer
