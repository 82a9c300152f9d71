"""Risk points (风险点) through the API, as enterprises and agencies keep them: graded on the
server by LEC or LS, scoped by jurisdiction, synced and audited, and summed up by level."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from anjian.core.audit.models import AuditRecord
from anjian.core.sync.models import OutboxEntry
from anjian.risk.models import RiskPoint

API = "/api/v1/risk"


def _point(node: Any, who: str = "qiye", enterprise: str = "ying_mine", **extra: Any) -> Any:
    body = {
        "enterprise_id": node.enterprises[enterprise],
        "name": "主斜井带式输送机",
        "kind": "facility",
        "location": "主斜井",
        "lng": 113.2,
        "lat": 39.56,
        "hazards": "皮带跑偏、打滑、着火",
        "method": "LEC",
        "L": 6,
        "E": 6,
        "C": 15,
        "control_measures": "安装跑偏、打滑、烟雾保护并每日检查",
        "control_level": "company",
        "responsible": "李安全",
        **extra,
    }
    return node.client.post(f"{API}/points", json=body, headers=node.login(who))


def _created(node: Any, who: str = "qiye", **extra: Any) -> dict[str, Any]:
    r = _point(node, who, **extra)
    assert r.status_code == 201, r.text
    return r.json()


def test_enterprise_user_registers_a_point_graded_on_the_server(personas: Any) -> None:
    pt = _created(personas)
    assert (pt["score"], pt["level"], pt["level_label"], pt["colour"]) == (
        540,
        "major",
        "重大风险",
        "red",
    )
    assert (pt["method"], pt["L"], pt["E"], pt["C"], pt["S"]) == ("LEC", 6, 6, 15, None)
    assert pt["convention"] == "A" and pt["kind_label"] == "设施"
    assert pt["control_level_label"] == "公司级"
    assert pt["enterprise_name"] == "应县金鼎煤业有限公司"
    assert pt["division_code"] == "140622"
    # the score and level cannot be sent
    r = _point(personas, score=1, level="low")
    assert r.status_code == 422
    with personas.db() as s:
        row = s.get(RiskPoint, pt["id"])
        assert row.supervision_category == "coal_mine" and row.assessed_at is not None
        assert (row.factor_l, row.factor_e, row.factor_c, row.factor_s) == (6, 6, 15, None)


def test_an_official_registers_a_point_by_the_risk_matrix(personas: Any) -> None:
    pt = _created(
        personas, "yingxian", method="LS", L=4, S=3, E=None, C=None, kind="job", name="井下爆破"
    )
    assert (pt["method"], pt["score"], pt["level"], pt["colour"]) == (
        "LS",
        12,
        "significant",
        "orange",
    )
    assert pt["convention"] == "B" and pt["kind_label"] == "作业"


def test_bad_factors_are_422_naming_the_field(personas: Any) -> None:
    r = _point(personas, L=4)
    assert r.status_code == 422 and r.json()["field"] == "L", r.text
    r = _point(personas, C=None)
    assert r.status_code == 422 and r.json()["field"] == "C"
    r = _point(personas, S=3)
    assert r.status_code == 422 and r.json()["field"] == "S"
    r = _point(personas, method="LS", L=4, S=6, E=None, C=None)
    assert r.status_code == 422 and r.json()["field"] == "S"
    r = _point(personas, kind="room")
    assert r.status_code == 422 and r.json()["field"] == "kind"
    r = _point(personas, control_level="boss")
    assert r.status_code == 422 and r.json()["field"] == "control_level"
    r = _point(personas, lng=10.0)
    assert r.status_code == 422 and r.json()["field"] == "lng"
    r = _point(personas, name="")
    assert r.status_code == 422 and r.json()["field"] == "name"


def test_scope(personas: Any) -> None:
    pt = _created(personas)
    # a sibling county sees nothing of the coal mine and cannot add to it
    shanyin = personas.login("shanyin")
    assert personas.client.get(f"{API}/points/{pt['id']}", headers=shanyin).status_code == 404
    listed = personas.client.get(f"{API}/points", headers=shanyin).json()
    assert listed == {"total": 0, "total_exact": True, "items": []}
    r = _point(personas, "shanyin")
    assert r.status_code == 404 and r.json()["field"] == "enterprise_id"
    r = personas.client.patch(f"{API}/points/{pt['id']}", json={"name": "x"}, headers=shanyin)
    assert r.status_code == 404
    assert personas.client.delete(f"{API}/points/{pt['id']}", headers=shanyin).status_code == 404
    r = personas.client.get(
        f"{API}/map", params={"enterprise_id": personas.enterprises["ying_mine"]}, headers=shanyin
    )
    assert r.status_code == 404
    # the coal-mine bureau sees the mine; the enterprise user cannot reach the chemical works
    bureau = personas.login("jianchaju")
    r = personas.client.get(f"{API}/points/{pt['id']}", headers=bureau)
    assert r.status_code == 200 and r.json()["name"] == "主斜井带式输送机"
    assert personas.client.get(f"{API}/points", headers=bureau).json()["total"] == 1
    assert _point(personas, "qiye", enterprise="shan_chem").status_code == 404
    # the city sees it, filtered by division and level
    city = personas.login("shuozhou")
    for params, total in [
        ({"division": "140622"}, 1),
        ({"division": "140621"}, 0),
        ({"level": "major"}, 1),
        ({"level": "low"}, 0),
        ({"kind": "facility", "q": "输送机"}, 1),
        ({"enterprise_id": personas.enterprises["shan_chem"]}, 0),
    ]:
        r = personas.client.get(f"{API}/points", params=params, headers=city)
        assert r.status_code == 200 and r.json()["total"] == total, (params, r.text)
    r = personas.client.get(f"{API}/points", params={"level": "purple"}, headers=city)
    assert r.status_code == 422 and r.json()["field"] == "level"


def test_an_enterprise_is_at_its_worst_level(personas: Any) -> None:
    from anjian.core.scope import Scope
    from anjian.risk.rules import RiskLevel
    from anjian.risk.service import enterprise_levels

    mine, chem = personas.enterprises["ying_mine"], personas.enterprises["shan_chem"]
    _created(personas, L=1, E=6, C=7)  # D = 42: low
    _created(personas, L=3, E=6, C=15, name="采煤工作面")  # D = 270: significant
    _created(personas, "shanyin", enterprise="shan_chem", method="LS", L=2, S=3, E=None, C=None)
    with personas.db() as s:
        everything = Scope.for_division(None, "admin", ["000000"])
        assert enterprise_levels(s, everything, [mine, chem]) == {
            mine: RiskLevel.SIGNIFICANT,
            chem: RiskLevel.GENERAL,
        }
        county = Scope.for_division(None, "official", ["140621"])
        assert enterprise_levels(s, county, [mine, chem]) == {chem: RiskLevel.GENERAL}
    r = personas.client.get(f"{API}/map", headers=personas.login("shuozhou"))
    assert r.status_code == 200
    body = r.json()
    assert len(body["points"]) == 3
    by_id = {e["id"]: e for e in body["enterprises"]}
    assert by_id[mine]["level"] == "significant" and by_id[mine]["colour"] == "orange"
    assert by_id[chem]["level"] == "general" and by_id[chem]["colour"] == "yellow"
    one = personas.client.get(
        f"{API}/map", params={"enterprise_id": mine}, headers=personas.login("qiye")
    ).json()
    assert len(one["points"]) == 2 and [e["id"] for e in one["enterprises"]] == [mine]
    assert {p["colour"] for p in one["points"]} == {"blue", "orange"}


def test_summary_counts_points_and_enterprises_by_level(personas: Any) -> None:
    _created(personas)  # major
    _created(personas, L=1, E=6, C=7)  # low
    _created(personas, "shanyin", enterprise="shan_chem", method="LS", L=2, S=3, E=None, C=None)
    r = personas.client.get(f"{API}/summary", headers=personas.login("shuozhou"))
    assert r.status_code == 200, r.text
    total, *rows = r.json()
    assert total["division_code"] == "140600" and total["division_name"] == "朔州市（合计）"
    assert total["points"] == {"major": 1, "significant": 0, "general": 1, "low": 1, "total": 3}
    assert total["enterprises"] == {
        "major": 1,
        "significant": 0,
        "general": 1,
        "low": 0,
        "total": 2,
    }
    by_code = {row["division_code"]: row for row in rows}
    # every county of the city, those without risk points too
    assert list(by_code) == ["140602", "140603", "140621", "140622", "140623", "140681"]
    assert by_code["140622"]["division_name"] == "应县"
    assert by_code["140622"]["points"]["total"] == 2
    assert by_code["140622"]["enterprises"]["major"] == 1
    assert by_code["140623"]["division_name"] == "右玉县"
    assert by_code["140623"]["points"] == {
        "major": 0,
        "significant": 0,
        "general": 0,
        "low": 0,
        "total": 0,
    }
    # the province sees each city as one row (大同市 reported nothing: zeros, not missing);
    # the bureau only the coal mine
    total, *rows = personas.client.get(f"{API}/summary", headers=personas.login("sheng")).json()
    by_code = {row["division_code"]: row for row in rows}
    assert list(by_code) == [f"14{n:02d}00" for n in range(1, 12)]
    assert by_code["140600"]["points"]["total"] == 3
    assert by_code["140200"]["division_name"] == "大同市"
    assert by_code["140200"]["points"]["total"] == by_code["140200"]["enterprises"]["total"] == 0
    assert total["points"]["total"] == 3
    total, *_ = personas.client.get(
        f"{API}/summary", params={"division": "140622"}, headers=personas.login("jianchaju")
    ).json()
    assert total["points"]["total"] == 2 and total["enterprises"]["total"] == 1
    r = personas.client.get(
        f"{API}/summary", params={"division": "14"}, headers=personas.login("sheng")
    )
    assert r.status_code == 422 and r.json()["field"] == "division"


def test_update_grades_again_and_delete_leaves_a_tombstone(personas: Any) -> None:
    pt = _created(personas)
    qiye = personas.login("qiye")
    url = f"{API}/points/{pt['id']}"
    r = personas.client.patch(url, json={"L": 1}, headers=qiye)  # D = 90
    assert r.status_code == 200, r.text
    assert (r.json()["score"], r.json()["level"], r.json()["version"]) == (90, "general", 2)
    r = personas.client.patch(url, json={"method": "LS", "L": 5, "S": 5}, headers=qiye)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["score"], body["level"], body["E"], body["C"], body["S"]) == (
        25,
        "major",
        None,
        None,
        5,
    )
    r = personas.client.patch(url, json={"method": "LEC", "L": 6}, headers=qiye)
    assert r.status_code == 422 and r.json()["field"] == "E"
    r = personas.client.patch(url, json={"name": None}, headers=qiye)
    assert r.status_code == 422 and r.json()["field"] == "name"
    same = personas.client.patch(url, json={"name": pt["name"], "S": 5}, headers=qiye)
    assert same.status_code == 200 and same.json()["version"] == 3  # nothing changed
    r = personas.client.patch(url, json={"control_level": "team"}, headers=qiye)
    assert r.json()["control_level_label"] == "班组级" and r.json()["version"] == 4
    assert personas.client.delete(url, headers=qiye).status_code == 204
    assert personas.client.get(url, headers=qiye).status_code == 404
    assert personas.client.get(f"{API}/points", headers=qiye).json()["total"] == 0
    with personas.db() as s:
        outbox = s.scalars(
            select(OutboxEntry).where(OutboxEntry.entity == "risk_point").order_by(OutboxEntry.seq)
        ).all()
        assert [(e.version, e.op) for e in outbox] == [
            (1, "upsert"),
            (2, "upsert"),
            (3, "upsert"),
            (4, "upsert"),
            (5, "delete"),
        ]
        assert outbox[0].payload["enterprise_uid"] is not None
        assert outbox[0].payload["level"] == "major" and outbox[1].payload["level"] == "general"
        records = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.object_type == "risk_point")
            .order_by(AuditRecord.seq)
        ).all()
        assert [r.action for r in records] == [
            "risk_point.create",
            "risk_point.update",
            "risk_point.update",
            "risk_point.update",
            "risk_point.delete",
        ]
        assert records[0].actor_name == "qiye" and records[0].division_code == "140622"
        assert records[1].detail["level_before"] == "major"
        assert records[1].detail["level"] == "general"
        assert s.get(RiskPoint, pt["id"]).deleted is True


def test_a_copy_from_another_node_is_read_only(personas: Any) -> None:
    pt = _created(personas)
    with personas.db() as s:
        s.execute(
            update(RiskPoint).where(RiskPoint.id == pt["id"]).values(origin_node="node-other")
        )
    url = f"{API}/points/{pt['id']}"
    yingxian = personas.login("yingxian")
    r = personas.client.patch(url, json={"L": 1}, headers=yingxian)
    assert r.status_code == 403 and "只读" in r.json()["detail"]
    assert personas.client.delete(url, headers=yingxian).status_code == 403
    r = personas.client.get(url, headers=yingxian)
    assert r.json()["level"] == "major" and r.json()["origin_node"] == "node-other"


def test_the_enterprise_keeps_its_worst_level_as_its_points_change(personas: Any) -> None:
    """The enterprise's worst level and number of live points (the one map's risk layer reads
    them) follow every change of its risk points here — created, graded again, deleted — and
    the arrival of points by sync (the entity's ``on_applied`` hook)."""
    from anjian.core.sync.registry import spec_of_model
    from anjian.enterprises.models import Enterprise

    mine = personas.enterprises["ying_mine"]

    def kept() -> tuple[str | None, int]:
        with personas.db() as s:
            ent = s.get(Enterprise, mine)
            return ent.risk_level, ent.risk_points

    assert kept() == (None, 0)
    major = _created(personas)  # LEC 6 × 6 × 15 = 540: 重大
    low = _created(personas, L=1, E=1, C=1)  # 1: 低
    assert low["level"] == "low"
    assert kept() == ("major", 2)
    headers = personas.login("qiye")
    r = personas.client.patch(f"{API}/points/{major['id']}", json={"C": 1}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["level"] != "major"
    assert kept() == (r.json()["level"], 2)
    assert personas.client.delete(f"{API}/points/{major['id']}", headers=headers).status_code in (
        200,
        204,
    )
    assert kept() == ("low", 1)
    assert personas.client.delete(f"{API}/points/{low['id']}", headers=headers).status_code in (
        200,
        204,
    )
    assert kept() == (None, 0)
    # a point that arrives by sync: written as the apply writes it, then the hook
    with personas.db() as s:
        s.execute(
            update(RiskPoint).where(RiskPoint.id == low["id"]).values(deleted=False, level="major")
        )
        uid = s.scalar(select(RiskPoint.uid).where(RiskPoint.id == low["id"]))
        hook = spec_of_model(RiskPoint).on_applied
        assert hook is not None
        hook(s, [uid])
    assert kept() == ("major", 1)
