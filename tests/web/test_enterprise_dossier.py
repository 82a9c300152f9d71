"""一企一档: the enterprise's page counts and links its records in every domain, and each list
it links to takes the enterprise as a filter (in scope only; hostile values refused)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from anjian.core.audit.service import SYSTEM
from anjian.core.scope import Scope

EVERYTHING = Scope.for_division(None, "admin", ["000000"])


def _hazard(node: Any, enterprise: str, place: str) -> None:
    from anjian.hidden_hazards.schemas import HazardCreate
    from anjian.hidden_hazards.service import report_hazard

    with node.db() as s:
        report_hazard(
            s,
            SYSTEM,
            EVERYTHING,
            HazardCreate(
                enterprise_id=node.enterprises[enterprise],
                place=place,
                description="皮带机跑偏保护失效",
                category="site",
            ),
        )


def _alarm(node: Any) -> None:
    from anjian.monitoring.ingest import ingest

    mine = node.enterprises["ying_mine"]
    node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level", "h": 8, "hh": 9})
    with node.db() as s:
        ingest(
            s, mine, {"ts": int(time.time() * 1000), "readings": [{"point": "LT-1", "value": 9.5}]}
        )


def _count(html: str, key: str) -> tuple[str, int]:
    m = re.search(rf'<a href="([^"]+)"[^>]*id="records-{key}">.*?record-count">(\d+)<', html, re.S)
    assert m, key
    return m.group(1), int(m.group(2))


def test_the_enterprise_page_counts_and_links_its_records(console: Any) -> None:
    node = console.node
    mine, chem = node.enterprises["ying_mine"], node.enterprises["shan_chem"]
    _hazard(node, "ying_mine", "主斜井皮带机")
    _hazard(node, "ying_mine", "副井绞车房")
    _hazard(node, "shan_chem", "罐区")
    _alarm(node)
    console.login("shuozhou")
    page = node.client.get(f"/enterprises/{mine}").text
    assert _count(page, "hidden_hazards") == (f"/hazards?enterprise={mine}", 2)
    assert "未销号 2" in page
    assert _count(page, "risk_points") == (f"/risk/enterprise/{mine}", 0)
    assert _count(page, "major_hazards") == (f"/major-hazards?enterprise={mine}", 0)
    assert _count(page, "accidents") == (f"/accidents?enterprise={mine}", 0)
    assert _count(page, "monitoring_points") == (f"/monitoring/enterprise/{mine}", 1)
    assert _count(page, "alarms") == (f"/monitoring/enterprise/{mine}#open-alarms", 1)

    # each link opens its list filtered to the enterprise, with a way back and out
    hazards = node.client.get(f"/hazards?enterprise={mine}").text
    assert "主斜井皮带机" in hazards and "副井绞车房" in hazards and "罐区" not in hazards
    assert 'id="enterprise-filter"' in hazards and f'href="/enterprises/{mine}"' in hazards
    assert f"tab=overdue&amp;enterprise={mine}" in hazards  # the tabs keep the filter
    for path in ("/major-hazards", "/accidents"):
        r = node.client.get(f"{path}?enterprise={mine}")
        assert r.status_code == 200 and 'id="enterprise-filter"' in r.text, path
        assert "应县金鼎煤业有限公司" in r.text
    # the other county's official: the mine is out of scope, the same 404 as a missing one
    console.login("shanyin")
    for path in ("/hazards", "/major-hazards", "/accidents"):
        assert node.client.get(f"{path}?enterprise={mine}").status_code == 404, path
        assert node.client.get(f"{path}?enterprise=987654").status_code == 404, path
    assert "罐区" in node.client.get(f"/hazards?enterprise={chem}").text


@pytest.mark.parametrize("value", ["0", "-1", "2147483648", "9" * 40, "abc", "1\x00", "1.5"])
@pytest.mark.one_backend
def test_a_hostile_enterprise_filter_is_refused(console: Any, value: str) -> None:
    console.login("shuozhou")
    for path in ("/hazards", "/major-hazards", "/accidents"):
        r = console.node.client.get(path, params={"enterprise": value})
        assert r.status_code in (400, 422), (path, value, r.status_code)


def test_an_empty_county_says_what_fills_each_list(console: Any) -> None:
    """A county with no records: each list says where its records come from and offers the
    action that creates one."""
    console.login("shanyin")
    node = console.node
    hazards = node.client.get("/hazards").text
    assert "暂无隐患" in hazards and "企业自查或执法检查发现隐患后上报" in hazards
    assert 'class="btn btn-sm btn-primary mt-3 empty-action">上报隐患<' in hazards
    accidents = node.client.get("/accidents").text
    assert "暂无事故报告" in accidents and "事故快报" in accidents and "1 小时内" in accidents
    sources = node.client.get("/major-hazards").text
    assert "暂无重大危险源" in sources and "GB 18218" in sources
    board = node.client.get("/monitoring").text
    assert "暂无未关闭的报警" in board and "辖区内尚无接入的监测点" in board
    # a filter that hides everything offers to clear it instead
    filtered = node.client.get("/hazards?grade=major").text
    assert "当前筛选条件下没有记录" in filtered and "empty-action" not in filtered
