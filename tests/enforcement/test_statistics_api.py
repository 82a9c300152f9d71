"""Enforcement statistics (一张表) by division with drill-down and Excel, and an enterprise's
enforcement history: the figures follow what was done, every division shows (zeros too), scope
holds and bad queries name their field."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from anjian.core.clock import today_in_china
from enforcement_world import API, finished_inspection


@pytest.fixture
def worked(personas: Any) -> Any:
    """应县: one finished inspection with a finding, a rectification order, a decided and paid
    penalty of 18 000 yuan."""
    node = personas
    node.headers = h = node.login("yingxian")
    mine = node.enterprises["ying_mine"]
    iid = finished_inspection(
        node,
        finding={"place": "井口", "description": "无警示标志"},
        planned_on=today_in_china().isoformat(),
    )
    node.client.post(
        f"{API}/inspections/{iid}/documents", headers=h, json={"kind": "inspection_record"}
    )
    cid = node.client.post(
        f"{API}/penalties",
        headers=h,
        json={
            "enterprise_id": mine,
            "basis": "SCF102",
            "facts": "未消除事故隐患",
            "filed_on": "2026-11-02",
        },
    ).json()["id"]
    node.client.post(
        f"{API}/penalties/{cid}/notice",
        headers=h,
        json={"fine": "20000", "discretion": "ordinary", "notified_on": "2026-11-03"},
    )
    r = node.client.post(
        f"{API}/penalties/{cid}/decision",
        headers=h,
        json={"fine": "18000", "discretion": "ordinary", "decided_on": "2026-11-16"},
    )
    assert r.status_code == 200, r.text
    node.client.post(
        f"{API}/penalties/{cid}/payment",
        headers=h,
        json={"paid_on": "2026-11-20", "amount": "18000"},
    )
    return node


def test_statistics_by_division_with_drill_down_and_excel(worked: Any) -> None:
    city = worked.login("shuozhou")
    r = worked.client.get(f"{API}/statistics", headers=city, params={"year": 2026})
    assert r.status_code == 200, r.text
    total, *rows = r.json()
    assert total["division_name"].endswith("（合计）")
    assert (total["inspections"], total["findings"], total["documents"], total["penalties"]) == (
        1,
        1,
        3,
        1,
    )
    assert total["fines"] == "18000.00" and total["paid"] == "18000.00"
    by_code = {row["division_code"]: row for row in rows}
    assert by_code["140622"]["penalties"] == 1 and by_code["140621"]["penalties"] == 0
    assert len(rows) >= 6  # every county of 朔州, the quiet ones as zeros
    drill = worked.client.get(
        f"{API}/statistics", headers=city, params={"division": "140622", "year": 2026}
    )
    assert drill.json()[0]["inspections"] == 1
    other_year = worked.client.get(f"{API}/statistics", headers=city, params={"year": 2025}).json()
    assert other_year[0]["penalties"] == 0
    r = worked.client.get(f"{API}/statistics.xlsx", headers=city, params={"year": 2026})
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    assert ws["A1"].value.startswith("2026 年行政执法统计")
    assert [c.value for c in ws[3]][2:8] == [1, 1, 3, 1, 18000, 18000]
    # The other county sees nothing of 应县's work; a bad division names its field.
    shanyin = worked.login("shanyin")
    assert worked.client.get(f"{API}/statistics", headers=shanyin).json()[0]["penalties"] == 0
    for params, status in [
        ({"division": "140622"}, 404),
        ({"division": "14x"}, 422),
        ({"year": 1900}, 422),
    ]:
        r = worked.client.get(f"{API}/statistics", headers=shanyin, params=params)
        assert r.status_code == status, (params, r.text)


def test_an_enterprise_history_lists_its_inspections_and_penalties(worked: Any) -> None:
    mine = worked.enterprises["ying_mine"]
    r = worked.client.get(f"{API}/enterprises/{mine}/history", headers=worked.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["inspections"]) == 1 and len(body["penalties"]) == 1
    assert body["penalties"][0]["stage"] == "paid" and len(body["penalties"][0]["documents"]) == 2
    shanyin = worked.login("shanyin")
    assert (
        worked.client.get(f"{API}/enterprises/{mine}/history", headers=shanyin).status_code == 404
    )
