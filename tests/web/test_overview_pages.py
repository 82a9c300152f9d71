"""双重预防 overview page: risk points, hidden hazards and major hazard sources of the
jurisdiction (or the enterprise) at a glance, with a drill-down table by division."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from anjian.core.audit.service import SYSTEM
from anjian.db import utcnow
from anjian.hidden_hazards.service import flag_overdue
from samples import major_hazard_source

HAZARDS = "/api/v1/hidden-hazards"
RISK = "/api/v1/risk/points"
SOURCES = "/api/v1/major-hazards"


def _post(node: Any, who: str, url: str, body: dict[str, Any], status: int = 201) -> Any:
    r = node.client.post(url, json=body, headers=node.login(who))
    assert r.status_code == status, r.text
    return r.json()


def _hazard(node: Any, who: str = "qiye", enterprise: str = "ying_mine", **extra: Any) -> Any:
    body = {
        "enterprise_id": node.enterprises[enterprise],
        "place": "主斜井皮带机",
        "description": "皮带机跑偏保护失效",
        **extra,
    }
    return _post(node, who, HAZARDS, body)


def _register(node: Any, hz: Any, **extra: Any) -> None:
    body = {
        "grade": "general",
        "deadline": (utcnow().date() + timedelta(days=1)).isoformat(),
        "responsible": "李安全",
        "measures": "调整托辊，更换保护装置",
        **extra,
    }
    _post(node, "yingxian", f"{HAZARDS}/{hz['id']}/register", body, 200)


def _risk_point(node: Any, who: str, enterprise: str, **factors: float) -> Any:
    body = {
        "enterprise_id": node.enterprises[enterprise],
        "name": "主斜井带式输送机",
        "kind": "facility",
        "location": "主斜井",
        "hazards": "皮带跑偏、打滑、着火",
        "method": "LEC",
        "control_measures": "安装跑偏、打滑、烟雾保护并每日检查",
        "control_level": "company",
        **factors,
    }
    return _post(node, who, RISK, body)


def _source(node: Any) -> Any:
    return _post(node, "qiye", SOURCES, major_hazard_source(node))


def _seed(node: Any) -> None:
    """In 应县 (ying_mine): two hazards (one major and open, soon overdue; one written off),
    a major risk point and a grade-3 major source. In 山阴县: one open hazard, a low point."""
    major = _hazard(node)
    _register(node, major, grade="major", major_criterion="煤矿重大事故隐患判定标准第十五项")
    done = _hazard(node, place="井下中央变电所")
    _register(node, done)
    for action, body in (("start", {}), ("finish", {"note": "已更换跑偏保护"})):
        _post(node, "qiye", f"{HAZARDS}/{done['id']}/{action}", body, 200)
    _post(node, "yingxian", f"{HAZARDS}/{done['id']}/accept", {"note": "合格"}, 200)
    with node.db() as s:
        assert flag_overdue(s, SYSTEM, utcnow().date() + timedelta(days=2)) == 1
    _hazard(node, "shanyin", "shan_chem", place="罐区", description="围堰破损")
    assert _risk_point(node, "qiye", "ying_mine", L=6, E=6, C=15)["level"] == "major"
    assert _risk_point(node, "shanyin", "shan_chem", L=1, E=1, C=1)["level"] == "low"
    assert _source(node)["grade"] == 3


def _fig(html: str, key: str) -> str:
    match = re.search(rf'id="fig-{key}">([^<]*)<', html)
    assert match, f"no figure {key}"
    return match.group(1)


def _figs(html: str, *keys: str) -> tuple[str, ...]:
    """The headline figures named by ``keys``, in that order."""
    return tuple(_fig(html, key) for key in keys)


def _row(html: str, code: str) -> dict[str, str]:
    match = re.search(rf'<tr id="row-{code}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {code}"
    return dict(re.findall(r'data-col="([^"]+)">([^<]*)<', match.group(1)))


def _get(console: Any, who: str, url: str = "/dual-prevention") -> str:
    console.login(who)
    r = console.node.client.get(url)
    assert r.status_code == 200, r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    # no inline script: only /static scripts and the JSON data block
    for tag in re.findall(r"<script[^>]*>", r.text):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    return r.text


def test_a_county_sees_its_three_summaries(console) -> None:
    _seed(console.node)
    html = _get(console, "yingxian")
    assert "双重预防" in html and 'href="/dual-prevention"' in html
    figures = {
        "risk-major": "1",
        "risk-low": "0",
        "ent-major": "1",
        "hz-found": "2",
        "hz-open": "1",
        "hz-overdue": "1",
        "hz-major-open": "1",
        "hz-rate": "50%",
        "mh-major": "1",
        "mh-grade-3": "1",
        "mh-grade-1": "0",
        "mh-filing-unfiled": "1",
        "mh-filing-filed": "0",
    }
    assert {k: _fig(html, k) for k in figures} == figures
    row = _row(html, "140622")
    assert (row["risk-major"], row["hz-open"], row["hz-rate"], row["mh-major"]) == (
        "1",
        "1",
        "50%",
        "1",
    )
    assert "山阴县" not in html and 'id="row-140621"' not in html
    for link in ('href="/risk"', 'href="/hazards"', 'href="/major-hazards"'):
        assert link in html
    assert '<script type="application/json" id="overview-data">' in html
    assert "/static/overview.js" in html and "/static/vendor/echarts/echarts.min.js" in html


def test_a_city_sees_its_counties_and_drills_down(console) -> None:
    _seed(console.node)
    html = _get(console, "shuozhou")
    assert _figs(html, "hz-found", "hz-open", "risk-low") == ("3", "2", "1")
    assert _row(html, "140622")["hz-open"] == "1" and _row(html, "140622")["risk-major"] == "1"
    shanyin = _row(html, "140621")
    assert (shanyin["hz-open"], shanyin["risk-low"], shanyin["hz-rate"]) == ("1", "1", "0%")
    assert shanyin["mh-major"] == "0"
    youyu = _row(html, "140623")  # 右玉县 reported nothing: a row of zeros, not missing
    assert (youyu["hz-open"], youyu["risk-total"], youyu["mh-major"], youyu["hz-rate"]) == (
        "0",
        "0",
        "0",
        "—",
    )
    assert 'href="/dual-prevention?division=140622"' in html
    assert '"divisions":' in html and "未整改" in html  # the chart data
    down = _get(console, "shuozhou", "/dual-prevention?division=140622")
    assert _figs(down, "hz-found", "risk-low", "mh-major") == ("2", "0", "1")
    assert 'id="row-140621"' not in down and 'href="/dual-prevention"' in down


def test_an_enterprise_user_sees_their_own_figures(console) -> None:
    _seed(console.node)
    html = _get(console, "qiye")
    assert _figs(html, "hz-found", "risk-major", "risk-low") == ("2", "1", "0")
    assert _fig(html, "mh-grade-3") == "1"
    assert "应县金鼎煤业有限公司" in html and 'id="overview-divisions"' not in html


def test_a_division_outside_the_scope_is_refused(console) -> None:
    console.login("yingxian")
    r = console.node.client.get("/dual-prevention?division=140621")
    assert r.status_code == 404 and "不在管辖范围内" in r.text
    bad = console.node.client.get("/dual-prevention?division=abc")
    assert bad.status_code == 422
    console.login("qiye")
    assert console.node.client.get("/dual-prevention?division=140622").status_code == 404


def test_an_empty_jurisdiction_renders(console) -> None:
    html = _get(console, "shuozhou")
    assert _fig(html, "hz-rate") == "—" and _fig(html, "risk-major") == "0"
    assert "应县" in html
