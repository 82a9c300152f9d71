"""The point-list import (测点清单导入) as an enterprise safety manager uses it: download the
template, fill it in, upload; a file with any wrong row imports nothing and says where."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from anjian.core.audit.models import AuditRecord
from anjian.monitoring.models import MonitoringPoint

API = "/api/v1/monitoring/points"


def _sheet(header: list[str], *rows: list[Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(node: Any, data: bytes, headers: dict[str, str], enterprise: str = "ying_mine") -> Any:
    return node.client.post(
        f"{API}/import?enterprise_id={node.enterprises[enterprise]}",
        files={"file": ("points.xlsx", data)},
        headers=headers,
    )


def test_point_list_import_all_or_nothing(personas: Any) -> None:
    node = personas
    headers = node.login("qiye")
    template = node.client.get(f"{API}/template.xlsx", headers=headers)
    assert template.status_code == 200
    header = [c.value for c in load_workbook(BytesIO(template.content)).active[1]]
    assert header[:3] == ["测点编码*", "名称", "监测类型(如 tank_level 或 储罐液位; 有预设可空)"]
    good = [
        ["CH4-01", "1201 工作面甲烷", None, None, "coal_ch4_t1_face"],
        ["LT-01", "1# 罐液位", "储罐液位", "m", None, 0.5, 1, 8, 9, 0.1, 5, 0, 10, 10],
    ]
    bad = [
        ["LT-02", "2# 罐液位", "tank_level", "m", None, None, None, 9, 8],  # h above hh
        ["LT-03", None, "volcano"],
        ["CH4-01", None, "ch4"],  # the same code as row 2
        ["LT-04", None, "tank_level", None, None, "low"],
    ]
    r = _upload(node, _sheet(header, *good, *bad), headers)
    assert r.status_code == 422, r.text
    problems = [(e["row"], e["column"]) for e in r.json()["errors"]]
    assert problems == [(4, "高高报"), (5, "监测类型"), (6, "测点编码"), (7, "低低报")]
    assert "未导入任何数据" in r.json()["detail"]
    with node.db() as s:
        assert s.scalar(select(func.count()).select_from(MonitoringPoint)) == 0
    # corrected: both points registered, each as the API would (audited, synced)
    r = _upload(node, _sheet(header, *good), headers)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 2
    points = {p["code"]: p for p in node.client.get(API, headers=headers).json()["items"]}
    assert (points["CH4-01"]["hh"], points["CH4-01"]["power_cut"]) == (1.5, True)
    assert (points["LT-01"]["kind"], points["LT-01"]["ll"], points["LT-01"]["period_s"]) == (
        "tank_level",
        0.5,
        10,
    )
    with node.db() as s:
        actions = s.scalars(
            select(AuditRecord.action, AuditRecord.result).where(
                AuditRecord.action.like("monitoring_point.%")
            )
        ).all()
        assert actions.count("monitoring_point.create") == 2
        assert actions.count("monitoring_point.import") == 2
    # another county's official cannot import into the mine
    assert _upload(node, _sheet(header, *good), node.login("shanyin")).status_code == 404
