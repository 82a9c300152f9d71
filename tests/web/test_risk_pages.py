"""The risk-grading console pages (风险分级管控): the jurisdiction's four-colour summary, an
enterprise's risk points with its map, the live calculator and the add / delete forms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from anjian.risk.models import RiskPoint

MINE = "应县金鼎煤业有限公司"


def _api_point(node: Any, **extra: Any) -> dict[str, Any]:
    body = {
        "enterprise_id": node.enterprises["ying_mine"],
        "name": "主斜井带式输送机",
        "kind": "facility",
        "lng": 113.2,
        "lat": 39.56,
        "method": "LEC",
        "L": 6,
        "E": 6,
        "C": 15,
        "control_level": "company",
        **extra,
    }
    r = node.client.post("/api/v1/risk/points", json=body, headers=node.login("qiye"))
    assert r.status_code == 201, r.text
    return r.json()


def test_the_overview_shows_counts_enterprises_and_the_map(console: Any) -> None:
    _api_point(console.node)
    console.login("shuozhou")
    r = console.node.client.get("/risk")
    assert r.status_code == 200, r.text
    for text in ("风险分级管控", "风险等级统计", "风险点（个）", "风险四色图", "应县", MINE):
        assert text in r.text, text
    assert "重大风险（红）" in r.text  # the mine's worst level
    assert "山阴县晋北化工有限公司" in r.text and "未评估" in r.text
    assert 'id="risk-map-data"' in r.text
    drill = console.node.client.get("/risk", params={"division": "140622"})
    assert drill.status_code == 200 and "应县（合计）" in drill.text


def test_the_enterprise_page_lists_points_and_adds_one(console: Any) -> None:
    node = console.node
    mine = node.enterprises["ying_mine"]
    _api_point(node)
    console.login("yingxian")
    r = node.client.get(f"/risk/enterprise/{mine}")
    assert r.status_code == 200, r.text
    for text in (MINE, "风险点清单", "主斜井带式输送机", "D = 6 × 6 × 15 = 540", "新增风险点"):
        assert text in r.text, text
    assert "作业条件危险性评价法" in r.text and "公司级" in r.text
    # the live calculator (an htmx fragment)
    calc = node.client.get(
        "/risk/calculator", params={"method": "LS", "L": "4", "S": "3", "E": "6"}
    )
    assert calc.status_code == 200
    assert "R = 4 × 3 = 12" in calc.text and "较大风险（橙）" in calc.text
    assert 'name="E"' not in calc.text
    # adding with a missing factor shows the error at the field; then a good one is saved
    csrf = console.csrf(f"/risk/enterprise/{mine}")
    form = {
        "csrf": csrf,
        "name": "井下爆破作业",
        "kind": "job",
        "method": "LEC",
        "L": "3",
        "E": "6",
        "control_level": "team",
    }
    bad = node.client.post(f"/risk/enterprise/{mine}/points", data=form, follow_redirects=False)
    assert bad.status_code == 422 and "LEC 法须填写 C" in bad.text
    form["C"] = "7"
    ok = node.client.post(f"/risk/enterprise/{mine}/points", data=form, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    page = node.client.get(ok.headers["location"])
    assert "已添加风险点" in page.text and "井下爆破作业" in page.text
    assert "D = 3 × 6 × 7 = 126" in page.text
    with node.db() as s:
        added = s.scalar(select(RiskPoint).where(RiskPoint.name == "井下爆破作业"))
        assert added.level == "general" and added.control_level == "team"
        point_id = added.id
    # delete through the form
    gone = node.client.post(
        f"/risk/points/{point_id}/delete", data={"csrf": csrf}, follow_redirects=False
    )
    assert gone.status_code == 303
    assert "井下爆破作业" not in node.client.get(gone.headers["location"]).text
    refused = node.client.post(f"/risk/points/{point_id}/delete", data={"csrf": "x"})
    assert refused.status_code in (403, 404)


def test_scope_and_the_enterprise_user(console: Any) -> None:
    node = console.node
    mine = node.enterprises["ying_mine"]
    console.login("shanyin")
    assert node.client.get(f"/risk/enterprise/{mine}").status_code == 404
    console.login("qiye")
    r = node.client.get("/risk", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/risk/enterprise/{mine}"
    r = node.client.get(f"/risk/enterprise/{mine}")
    assert r.status_code == 200 and "尚未登记风险点" in r.text
    assert node.client.get(f"/risk/enterprise/{node.enterprises['shan_chem']}").status_code == 404
