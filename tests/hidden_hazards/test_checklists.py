"""Inspection checklists (排查清单) and self-inspection tasks (排查任务): periods, who sees and
writes what, tasks made once per period, done once, completion rates, and the Excel import."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from anjian.core.audit.models import AuditRecord
from anjian.core.clock import today_in_china
from anjian.core.downloads import XLSX_MEDIA_TYPE
from anjian.hidden_hazards.checklists.rules import completion_rate, period_of, period_start
from anjian.hidden_hazards.checklists.tasks import ensure_tasks
from anjian.hidden_hazards.jobs import schedule_inspections
from anjian.hidden_hazards.models import Checklist, InspectionTask

API = "/api/v1/checklists"
TASKS = "/api/v1/inspection-tasks"
CST = ZoneInfo("Asia/Shanghai")
ITEMS = [
    {"content": "检查皮带机跑偏、打滑保护", "basis": "《煤矿安全规程》第三百七十四条"},
    {"content": "检查瓦斯传感器读数", "basis": ""},
]


@pytest.mark.parametrize(
    ("frequency", "day", "period", "due"),
    [
        ("daily", date(2026, 11, 29), "2026-11-29", date(2026, 11, 29)),
        ("weekly", date(2026, 11, 25), "2026-W48", date(2026, 11, 29)),
        ("weekly", date(2026, 11, 29), "2026-W48", date(2026, 11, 29)),  # a Sunday: its own week
        ("weekly", date(2026, 12, 31), "2026-W53", date(2027, 1, 3)),
        ("weekly", date(2027, 1, 1), "2026-W53", date(2027, 1, 3)),  # ISO week of the old year
        ("weekly", date(2027, 1, 4), "2027-W01", date(2027, 1, 10)),
        ("monthly", date(2026, 11, 1), "2026-11", date(2026, 11, 30)),
        ("monthly", date(2026, 12, 15), "2026-12", date(2026, 12, 31)),
        ("monthly", date(2028, 2, 10), "2028-02", date(2028, 2, 29)),  # leap year
        ("monthly", date(2027, 2, 10), "2027-02", date(2027, 2, 28)),
    ],
)
def test_period_of(frequency: str, day: date, period: str, due: date) -> None:
    assert period_of(frequency, day) == (period, due)
    assert period_start(period) <= day <= due


def test_period_starts_and_rates() -> None:
    assert period_start("2026-W53") == date(2026, 12, 28)
    assert period_start("2028-02") == date(2028, 2, 1)
    assert period_start("2026-11-29") == date(2026, 11, 29)
    assert completion_rate(1, 2) == 50.0 and completion_rate(2, 3) == 66.7
    assert completion_rate(0, 0) is None
    with pytest.raises(ValueError):
        period_of("hourly", date(2026, 1, 1))


def _create(node, who: str = "qiye", expect: int = 201, **extra: Any) -> dict[str, Any]:
    body = {"name": "采煤工作面班前排查", "post": "带班班长", "frequency": "daily", "items": ITEMS}
    body.update(extra)
    r = node.client.post(API, json=body, headers=node.login(who))
    assert r.status_code == expect, r.text
    return r.json()


def _tasks(node, who: str = "qiye", **params: Any) -> dict[str, Any]:
    r = node.client.get(TASKS, params=params, headers=node.login(who))
    assert r.status_code == 200, r.text
    return r.json()


def test_create_validate_update_and_deactivate(personas) -> None:
    cl = _create(personas)
    assert (cl["enterprise_id"], cl["frequency_label"], cl["active"]) == (
        personas.enterprises["ying_mine"],
        "每日",
        True,
    )
    assert cl["items"][0] == ITEMS[0] and cl["enterprise_name"] == "应县金鼎煤业有限公司"
    # its task of today is scheduled at once
    pending = _tasks(personas, state="pending")
    assert [(t["checklist_id"], t["period"]) for t in pending["items"]] == [
        (cl["id"], today_in_china().isoformat())
    ]
    for body, field in [
        ({"frequency": "hourly"}, "frequency"),
        ({"items": []}, "items"),
        ({"items": [{"content": "  ", "basis": ""}]}, "items.0.content"),
        ({"name": ""}, "name"),
    ]:
        r = personas.client.post(
            API,
            json={"name": "x", "frequency": "weekly", "items": ITEMS, **body},
            headers=personas.login("qiye"),
        )
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.text)
    assert (
        "每日"
        in personas.client.post(
            API,
            json={"name": "x", "frequency": "hourly", "items": ITEMS},
            headers=personas.login("qiye"),
        ).json()["detail"]
    )
    # an official names the enterprise; the same name, post and frequency twice is a conflict
    missing = _create(personas, who="yingxian", expect=422)
    assert missing["field"] == "enterprise_id"
    dup = _create(personas, who="yingxian", expect=409, enterprise_id=cl["enterprise_id"])
    assert dup["field"] == "name"
    # a new frequency replaces the pending task by one of the new schedule
    r = personas.client.patch(
        f"{API}/{cl['id']}", json={"frequency": "weekly"}, headers=personas.login("yingxian")
    )
    assert r.status_code == 200 and r.json()["frequency"] == "weekly"
    week, _due = period_of("weekly", today_in_china())
    assert [t["period"] for t in _tasks(personas, state="pending")["items"]] == [week]
    off = personas.client.post(f"{API}/{cl['id']}/deactivate", headers=personas.login("qiye"))
    assert off.status_code == 200 and off.json()["active"] is False
    assert _tasks(personas)["total"] == 0
    again = personas.client.patch(
        f"{API}/{cl['id']}", json={"name": "新名称"}, headers=personas.login("qiye")
    )
    assert again.status_code == 409
    assert _create(personas)["id"] != cl["id"]  # the name is free again
    actions = [r.action for r in personas.audits(object_type="checklist")]
    assert actions == [
        "checklist.create",
        "checklist.update",
        "checklist.deactivate",
        "checklist.create",
    ]


def test_scope_decides_who_sees_and_writes(personas) -> None:
    cl = _create(personas)
    other = personas.login("shanyin")
    assert personas.client.get(API, headers=other).json()["total"] == 0
    assert personas.client.get(f"{API}/{cl['id']}", headers=other).status_code == 404
    patched = personas.client.patch(f"{API}/{cl['id']}", json={"name": "x"}, headers=other)
    assert patched.status_code == 404
    assert _tasks(personas, who="shanyin")["total"] == 0
    task = _tasks(personas)["items"][0]
    done = personas.client.post(f"{TASKS}/{task['id']}/complete", json={}, headers=other)
    assert done.status_code == 404
    shan = _create(
        personas, who="shanyin", expect=404, enterprise_id=personas.enterprises["ying_mine"]
    )
    assert shan["field"] == "enterprise_id"
    for who in ("yingxian", "shuozhou", "sheng", "jianchaju"):
        assert personas.client.get(API, headers=personas.login(who)).json()["total"] == 1
    # the enterprise user writes only for their own enterprise
    _create(personas, expect=404, enterprise_id=personas.enterprises["shan_chem"])


def test_ensure_tasks_makes_one_task_per_checklist_and_period(personas) -> None:
    daily = _create(personas)
    monthly = _create(personas, name="机电设备月度排查", frequency="monthly")
    off = _create(personas, name="停用的清单", frequency="weekly")
    personas.client.post(f"{API}/{off['id']}/deactivate", headers=personas.login("qiye"))
    day = date(2030, 1, 15)
    with personas.db() as s:
        assert ensure_tasks(s, day) == 2
    with personas.db() as s:
        assert ensure_tasks(s, day) == 0
    assert schedule_inspections(day) == 0  # the background job's entry point
    with personas.db() as s:
        rows = s.execute(
            select(InspectionTask.checklist_id, InspectionTask.period, InspectionTask.due_date)
            .where(InspectionTask.due_date >= day)
            .order_by(InspectionTask.checklist_id)
        ).all()
        assert [tuple(r) for r in rows] == [
            (daily["id"], "2030-01-15", day),
            (monthly["id"], "2030-01", date(2030, 1, 31)),
        ]
        per_period = s.execute(
            select(InspectionTask.checklist_id, InspectionTask.period, func.count())
            .group_by(InspectionTask.checklist_id, InspectionTask.period)
            .having(func.count() > 1)
        ).all()
        assert per_period == []
        assert s.scalar(select(func.count()).where(InspectionTask.checklist_id == off["id"])) == 0


def test_a_task_is_done_once_and_not_before_its_period(personas) -> None:
    cl = _create(personas)
    task = _tasks(personas)["items"][0]
    assert (task["state"], task["on_time"]) == ("pending", None)
    r = personas.client.post(
        f"{TASKS}/{task['id']}/complete",
        json={"note": "正常", "hazards_found": 1},
        headers=personas.login("qiye"),
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["state"], done["on_time"], done["done_by"], done["hazards_found"]) == (
        "done",
        True,
        "qiye",
        1,
    )
    again = personas.client.post(
        f"{TASKS}/{task['id']}/complete", json={}, headers=personas.login("yingxian")
    )
    assert again.status_code == 409 and again.json()["field"] == "state"
    negative = personas.client.post(
        f"{TASKS}/{task['id']}/complete", json={"hazards_found": -1}, headers=personas.login("qiye")
    )
    assert negative.status_code == 422 and negative.json()["field"] == "hazards_found"
    with personas.db() as s:
        ensure_tasks(s, today_in_china() + timedelta(days=1))
    future = _tasks(personas, state="pending")["items"]
    assert [t["checklist_id"] for t in future] == [cl["id"]]
    early = personas.client.post(
        f"{TASKS}/{future[0]['id']}/complete", json={}, headers=personas.login("yingxian")
    )
    assert early.status_code == 409 and early.json()["field"] == "period"
    assert [t["id"] for t in _tasks(personas, state="done")["items"]] == [task["id"]]
    with personas.db() as s:
        audited = s.scalars(
            select(AuditRecord.action).where(AuditRecord.object_type == "inspection_task")
        ).all()
    assert audited == ["inspection.complete"]


def test_completion_rates(personas) -> None:
    a = _create(personas)
    b = _create(personas, name="通风系统班前排查", post="通风员")
    day = today_in_china() - timedelta(days=3)
    with personas.db() as s:
        assert ensure_tasks(s, day) == 2
        task_a = s.scalar(
            select(InspectionTask).where(
                InspectionTask.checklist_id == a["id"], InspectionTask.due_date == day
            )
        )
        task_a.done_at = datetime.combine(day, datetime.min.time(), CST).replace(hour=23, minute=30)
        task_a.done_by = "qiye"
    params = {"from": day.isoformat(), "to": day.isoformat()}
    r = personas.client.get(
        f"{TASKS}/completion", params=params, headers=personas.login("shuozhou")
    )
    assert r.status_code == 200, r.text
    (row,) = r.json()
    assert (row["enterprise_id"], row["due"], row["done"], row["missed"], row["rate"]) == (
        personas.enterprises["ying_mine"],
        2,
        1,
        1,
        50.0,
    )
    missed = _tasks(personas, state="missed", **params)["items"]
    assert [t["checklist_id"] for t in missed] == [b["id"]]
    done = _tasks(personas, state="done", **params)["items"]
    assert done[0]["on_time"] is True  # 23:30 Beijing time on the due day is in time
    # today's tasks are still pending: not due yet, so not in the rate
    today = today_in_china().isoformat()
    (now,) = personas.client.get(
        f"{TASKS}/completion",
        params={"from": day.isoformat(), "to": today},
        headers=personas.login("qiye"),
    ).json()
    assert (now["due"], now["pending"], now["rate"]) == (2, 2, 50.0)
    other = personas.client.get(
        f"{TASKS}/completion", params=params, headers=personas.login("shanyin")
    )
    assert other.json() == []
    backwards = personas.client.get(
        f"{TASKS}/completion",
        params={"from": today, "to": day.isoformat()},
        headers=personas.login("qiye"),
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "from"


def _workbook(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header or ["清单名称*", "岗位", "频次(每日/每周/每月)*", "排查内容*", "排查依据"])
    for row in rows:
        ws.append(row)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _import(node, data: bytes, who: str = "yingxian", **params: Any):
    return node.client.post(
        f"{API}/import",
        params=params,
        files={"file": ("清单.xlsx", data, XLSX_MEDIA_TYPE)},
        headers=node.login(who),
    )


GOOD = [
    ["采煤工作面班前排查", "带班班长", "每日", "检查支架初撑力", "《煤矿安全规程》第一百零一条"],
    ["机电月度排查", "机电科", "monthly", "检查主通风机反风装置", ""],
    [
        "采煤工作面班前排查",
        "带班班长",
        "每日",
        "检查工作面瓦斯浓度",
        "《煤矿安全规程》第一百七十二条",
    ],
]


def test_template_downloads_and_opens(personas) -> None:
    r = personas.client.get(f"{API}/template.xlsx", headers=personas.login("qiye"))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX_MEDIA_TYPE
    ws = load_workbook(BytesIO(r.content)).active
    header = next(ws.iter_rows(values_only=True))
    assert header == ("清单名称*", "岗位", "频次(每日/每周/每月)*", "排查内容*", "排查依据")
    # the template itself is what the import reads
    wb = load_workbook(BytesIO(r.content))
    wb.active.append(GOOD[0])
    buf = BytesIO()
    wb.save(buf)
    ok = _import(personas, buf.getvalue(), who="qiye")
    assert ok.status_code == 200 and ok.json()["checklists"] == 1, ok.text


def test_excel_import_is_all_or_nothing(personas) -> None:
    mine = personas.enterprises["ying_mine"]
    bad = [*GOOD, ["通风排查", "通风员", "每年", "检查风门", ""], ["通风排查", "", "每周", "", ""]]
    r = _import(personas, _workbook(bad), enterprise_id=mine)
    assert r.status_code == 422, r.text
    report = r.json()
    assert "未导入任何数据" in report["detail"]
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(5, "频次"), (6, "排查内容")]
    assert "每日" in report["errors"][0]["message"]
    with personas.db() as s:
        assert s.scalar(select(func.count()).select_from(Checklist)) == 0
    # the good rows: two checklists, the items of the first grouped in row order
    ok = _import(personas, _workbook(GOOD), enterprise_id=mine)
    assert ok.status_code == 200, ok.text
    assert (ok.json()["checklists"], ok.json()["items"]) == (2, 3)
    listed = personas.client.get(API, headers=personas.login("qiye")).json()["items"]
    by_name = {c["name"]: c for c in listed}
    shift = by_name["采煤工作面班前排查"]
    assert (shift["post"], shift["frequency"]) == ("带班班长", "daily")
    assert [i["content"] for i in shift["items"]] == ["检查支架初撑力", "检查工作面瓦斯浓度"]
    assert shift["items"][0]["basis"] == "《煤矿安全规程》第一百零一条"
    assert by_name["机电月度排查"]["frequency"] == "monthly"
    assert _tasks(personas)["total"] == 2  # each checklist's current task is scheduled
    # the same file again: the checklists exist already
    again = _import(personas, _workbook(GOOD), enterprise_id=mine)
    assert again.status_code == 422
    assert [(e["row"], e["column"]) for e in again.json()["errors"]] == [
        (2, "清单名称"),
        (3, "清单名称"),
    ]
    # a missing column, a file that is no workbook, and an enterprise out of scope
    no_col = _import(
        personas, _workbook([["a", "b"]], header=["清单名称", "岗位"]), enterprise_id=mine
    )
    assert {e["column"] for e in no_col.json()["errors"]} == {"频次", "排查内容"}
    junk = _import(personas, b"not a workbook", enterprise_id=mine)
    assert junk.status_code == 422 and junk.json()["field"] == "file"
    assert _import(personas, _workbook(GOOD), who="shanyin", enterprise_id=mine).status_code == 404
    with personas.db() as s:
        results = (
            s.execute(
                select(AuditRecord.result)
                .where(AuditRecord.action == "checklist.import")
                .order_by(AuditRecord.seq)
            )
            .scalars()
            .all()
        )
    assert results == ["failure", "success", "failure", "failure"]
