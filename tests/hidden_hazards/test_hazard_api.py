"""A hidden hazard's closed loop through the API, as the enterprise and the agencies live it:
who may take which step, what each step leaves behind, and what the ledger and statistics show."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from anjian.core.audit.models import AuditRecord
from anjian.core.audit.service import SYSTEM
from anjian.core.sync.models import OutboxEntry
from anjian.db import utcnow
from anjian.hidden_hazards.models import HiddenHazard
from anjian.hidden_hazards.service import flag_overdue

API = "/api/v1/hidden-hazards"
PLAN = {
    "goal": "消除主斜井皮带机保护失效隐患",
    "measures": "更换跑偏、打滑、堆煤保护装置",
    "funds": "12 万元，已列支",
    "organisation": "机电科，科长负责",
    "deadline": "15 日内完成",
    "safety_measures": "停运皮带机，设警戒",
    "emergency_plan": "执行皮带机火灾专项预案",
}


def _tomorrow() -> str:
    return (utcnow().date() + timedelta(days=1)).isoformat()


def _report(node, who: str = "qiye", **extra: Any) -> dict[str, Any]:
    body = {
        "enterprise_id": node.enterprises["ying_mine"],
        "place": "主斜井皮带机",
        "description": "皮带机跑偏保护失效",
        **extra,
    }
    r = node.client.post(API, json=body, headers=node.login(who))
    assert r.status_code == 201, r.text
    return r.json()


def _step(node, who: str, hz: dict[str, Any], action: str, **body: Any):
    return node.client.post(f"{API}/{hz['id']}/{action}", json=body, headers=node.login(who))


def _register(node, hz, who: str = "yingxian", **extra: Any):
    body = {
        "grade": "general",
        "deadline": _tomorrow(),
        "responsible": "李安全",
        "measures": "调整托辊，更换保护装置",
        "funds_cny": 3000,
        **extra,
    }
    return _step(node, who, hz, "register", **body)


def test_a_general_hazard_goes_round_the_loop(personas) -> None:
    hz = _report(personas)
    assert (hz["state"], hz["source"], hz["found_by"]) == ("found", "self_check", "qiye")
    assert hz["number"].startswith("YH")
    assert _register(personas, hz).json()["state"] == "registered"
    assert _step(personas, "qiye", hz, "start").json()["state"] == "rectifying"
    done = _step(personas, "qiye", hz, "finish", note="已更换跑偏保护")
    assert done.json()["state"] == "rectified" and done.json()["rectified_by"] == "qiye"
    # the rectifier cannot accept their own work; someone else can
    own = _step(personas, "qiye", hz, "accept")
    assert own.status_code == 403 and "整改人" in own.json()["detail"]
    closed = _step(personas, "yingxian", hz, "accept", note="现场核查合格").json()
    assert closed["state"] == "closed" and closed["accepted_by"] == "yingxian"
    assert [(s["action"], s["actor"]) for s in closed["steps"]] == [
        ("report", "qiye"),
        ("register", "yingxian"),
        ("start", "qiye"),
        ("finish", "qiye"),
        ("accept", "yingxian"),
    ]
    with personas.db() as s:
        actions = s.scalars(
            select(AuditRecord.action).where(AuditRecord.object_type == "hidden_hazard")
        ).all()
        assert [a for a in actions if a.startswith("hidden_hazard.")] == [
            "hidden_hazard.report",
            "hidden_hazard.register",
            "hidden_hazard.start",
            "hidden_hazard.finish",
            "hidden_hazard.accept",
        ]
        versions = s.scalars(
            select(OutboxEntry.version)
            .where(OutboxEntry.uid == hz["uid"])
            .order_by(OutboxEntry.seq)
        ).all()
        assert versions == [1, 2, 3, 4, 5]  # every step travels up
        last = s.scalar(
            select(OutboxEntry).where(OutboxEntry.uid == hz["uid"], OutboxEntry.version == 5)
        )
        assert last.payload["state"] == "closed" and last.payload["accepted_by"] == "yingxian"
        steps = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "hazard_step")).all()
        assert len(steps) == 5


def test_illegal_steps_are_409_and_bad_input_422(personas) -> None:
    hz = _report(personas)
    r = _step(personas, "yingxian", hz, "accept")
    assert r.status_code == 409 and "待登记" in r.json()["detail"] and r.json()["field"] == "state"
    past = _register(personas, hz, deadline="2020-01-01")
    assert past.status_code == 422 and past.json()["field"] == "deadline"
    major = _register(personas, hz, grade="major")
    assert major.status_code == 422 and major.json()["field"] == "major_criterion"
    _register(personas, hz)
    _step(personas, "qiye", hz, "start")
    blank = _step(personas, "qiye", hz, "finish", note=" ")
    assert blank.status_code == 422 and blank.json()["field"] == "note"
    bad = personas.client.post(
        API,
        json={"enterprise_id": personas.enterprises["ying_mine"], "place": "", "description": "x"},
        headers=personas.login("qiye"),
    )
    assert bad.status_code == 422 and "place" in bad.json()["field"]


def test_a_major_hazard_needs_a_plan_and_the_agency(personas) -> None:
    hz = _report(personas, who="yingxian")
    assert hz["source"] == "inspection"
    reg = _register(personas, hz, grade="major", major_criterion="煤矿重大事故隐患判定标准第十五项")
    assert reg.json()["reported_to_agency_at"] is not None
    early = _step(personas, "qiye", hz, "start")
    assert early.status_code == 409 and "治理方案" in early.json()["detail"]
    r = personas.client.put(f"{API}/{hz['id']}/plan", json=PLAN, headers=personas.login("qiye"))
    assert r.status_code == 200 and r.json()["plan"]["goal"] == PLAN["goal"]
    assert _step(personas, "qiye", hz, "start").status_code == 200
    _step(personas, "qiye", hz, "finish", note="保护装置已更换并试验")
    # someone of the enterprise other than the rectifier is still not the agency
    with personas.db() as s:
        s.get(HiddenHazard, hz["id"]).rectified_by = "another"
    refused = _step(personas, "qiye", hz, "accept")
    assert refused.status_code == 403 and "监管部门" in refused.json()["detail"]
    assert _step(personas, "yingxian", hz, "accept").json()["state"] == "closed"


def test_supervision_blocks_closure_until_the_issuer_closes_it(personas) -> None:
    hz = _report(personas)
    _register(personas, hz, grade="major", major_criterion="第二项 瓦斯超限作业")
    personas.client.put(f"{API}/{hz['id']}/plan", json=PLAN, headers=personas.login("qiye"))
    # a general hazard or an enterprise user cannot be put / put things under supervision
    order = {"requirements": "限期 15 日整改到位", "due_date": _tomorrow()}
    assert _step(personas, "qiye", hz, "supervise", **order).status_code == 403
    r = _step(personas, "shuozhou", hz, "supervise", **order)
    assert r.status_code == 201, r.text
    directive = r.json()
    assert directive["kind"] == "supervision" and directive["target_division"] == "140622"
    assert directive["subject_uid"] == hz["uid"]
    assert _step(personas, "shuozhou", hz, "supervise", **order).status_code == 409
    _step(personas, "qiye", hz, "start")
    _step(personas, "qiye", hz, "finish", note="完成")
    blocked = _step(personas, "yingxian", hz, "accept")  # a state conflict, not a lack of rights
    assert blocked.status_code == 409 and "挂牌督办" in blocked.json()["detail"]
    close = f"/api/v1/directives/{directive['uid']}/close"
    assert (
        personas.client.post(close, json={"note": "同意"}, headers=personas.login("yingxian"))
    ).status_code == 403  # only the issuer lifts its order
    lifted = personas.client.post(
        close, json={"note": "验收合格，解除督办"}, headers=personas.login("shuozhou")
    )
    assert lifted.status_code == 200 and lifted.json()["closed_at"] is not None
    assert _step(personas, "yingxian", hz, "accept").json()["state"] == "closed"


def test_scope_decides_who_sees_and_acts(personas) -> None:
    hz = _report(personas)
    other_county = personas.login("shanyin")
    assert personas.client.get(f"{API}/{hz['id']}", headers=other_county).status_code == 404
    assert _register(personas, hz, who="shanyin").status_code == 404
    listed = personas.client.get(API, headers=other_county).json()
    assert listed["total"] == 0
    outside = personas.client.get(
        f"{API}/stats", params={"division": "140622"}, headers=other_county
    )
    assert outside.status_code == 404 and outside.json()["field"] == "division"
    for who in ("yingxian", "shuozhou", "sheng", "jianchaju"):  # 应县 coal mine: all of these
        assert personas.client.get(API, headers=personas.login(who)).json()["total"] == 1
    # an enterprise user reports only for their own enterprise
    r = personas.client.post(
        API,
        json={
            "enterprise_id": personas.enterprises["shan_chem"],
            "place": "罐区",
            "description": "x",
        },
        headers=personas.login("qiye"),
    )
    assert r.status_code == 404 and r.json()["field"] == "enterprise_id"


def test_overdue_hazards_are_flagged_once_and_counted(personas) -> None:
    late = _report(personas)
    _register(personas, late)
    on_time = _report(personas, place="井下变电所")
    _register(personas, on_time)
    _step(personas, "qiye", on_time, "start")
    _step(personas, "qiye", on_time, "finish", note="已整改")
    day_after = utcnow().date() + timedelta(days=2)
    with personas.db() as s:
        assert flag_overdue(s, SYSTEM, day_after) == 1
    with personas.db() as s:
        assert flag_overdue(s, SYSTEM, day_after) == 0  # once
    got = personas.client.get(f"{API}/{late['id']}", headers=personas.login("yingxian")).json()
    assert got["overdue"] and got["escalated_at"] and got["steps"][-1]["action"] == "overdue"
    only_late = personas.client.get(
        API, params={"overdue": "true"}, headers=personas.login("shuozhou")
    ).json()
    assert [h["id"] for h in only_late["items"]] == [late["id"]]
    stats = personas.client.get(f"{API}/stats", headers=personas.login("shuozhou")).json()
    total, *rows = stats
    assert (total["found"], total["open"], total["overdue"], total["closed"]) == (2, 2, 1, 0)
    # every county of the city, those without hazards as zeros
    assert [(r["division_code"], r["division_name"]) for r in rows] == [
        ("140602", "朔城区"),
        ("140603", "平鲁区"),
        ("140621", "山阴县"),
        ("140622", "应县"),
        ("140623", "右玉县"),
        ("140681", "怀仁市"),
    ]
    by_code = {r["division_code"]: r for r in rows}
    assert (by_code["140622"]["found"], by_code["140622"]["overdue"]) == (2, 1)
    shanyin = by_code["140621"]
    assert (shanyin["found"], shanyin["open"], shanyin["closed"], shanyin["overdue"]) == (
        0,
        0,
        0,
        0,
    )
    assert shanyin["rectification_rate"] is None  # nothing found: no rate, not 0 %
    assert total["rectification_rate"] == 0.0
    # the province: every city, 大同市 with zeros
    total, *rows = personas.client.get(f"{API}/stats", headers=personas.login("sheng")).json()
    by_code = {r["division_code"]: r for r in rows}
    assert list(by_code) == [f"14{n:02d}00" for n in range(1, 12)]
    assert (by_code["140200"]["division_name"], by_code["140200"]["found"]) == ("大同市", 0)
    assert by_code["140600"]["found"] == total["found"] == 2
    # an enterprise user: one row, no zero rows of divisions
    total, *rows = personas.client.get(f"{API}/stats", headers=personas.login("qiye")).json()
    assert [r["found"] for r in rows] == [2]


def test_ledger_exports_to_excel(personas) -> None:
    _report(personas, description='=HYPERLINK("http://x")')
    r = personas.client.get(f"{API}/export.xlsx", headers=personas.login("yingxian"))
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    rows = list(ws.values)
    assert rows[0][0] == "隐患编号" and len(rows) == 2
    assert rows[1][4] == '=HYPERLINK("http://x")'  # stays text
    assert rows[1][11] == "待登记"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the signature is what is checked


def test_photos_are_kept_once_and_served_within_scope(personas) -> None:
    hz = _report(personas)
    qiye = personas.login("qiye")
    url = f"{API}/{hz['id']}/photos"
    r = personas.client.post(url, files={"file": ("皮带机.png", PNG, "image/png")}, headers=qiye)
    assert r.status_code == 201, r.text
    photo = r.json()["photos"][0]
    assert (photo["name"], photo["type"], photo["size"]) == ("皮带机.png", "image/png", len(PNG))
    again = personas.client.post(url, files={"file": ("copy.png", PNG, "image/png")}, headers=qiye)
    assert len(again.json()["photos"]) == 1  # the same photo twice is kept once
    fake = personas.client.post(
        url, files={"file": ("x.jpg", b"MZ\x90\x00 not an image", "image/jpeg")}, headers=qiye
    )
    assert fake.status_code == 422 and fake.json()["field"] == "file"
    got = personas.client.get(f"{url}/{photo['sm3']}", headers=personas.login("yingxian"))
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    other = personas.client.get(f"{url}/{photo['sm3']}", headers=personas.login("shanyin"))
    assert other.status_code == 404
    with personas.db() as s:
        last = s.scalars(
            select(OutboxEntry).where(OutboxEntry.uid == hz["uid"]).order_by(OutboxEntry.seq.desc())
        ).first()
        assert last.payload["photos"][0]["sm3"] == photo["sm3"]  # the metadata travels up
