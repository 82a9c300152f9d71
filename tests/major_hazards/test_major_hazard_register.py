"""The register of major hazard sources (重大危险源) through the API: graded by GB 18218-2018 on
saving, kept within the jurisdiction, and filed (备案) with the agency — submit, file or return,
and renew after the units change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from anjian.core.sync.models import OutboxEntry
from anjian.major_hazards.models import MajorHazardSource
from samples import CHLORINE_AND_AMMONIA, major_hazard_source, unit

API = "/api/v1/major-hazards"


def _create(node, who: str = "qiye", **extra: Any) -> dict[str, Any]:
    r = node.client.post(API, json=major_hazard_source(node, **extra), headers=node.login(who))
    assert r.status_code == 201, r.text
    return r.json()


def _act(node, who: str, src: dict[str, Any], action: str, **body: Any):
    return node.client.post(f"{API}/{src['id']}/{action}", json=body, headers=node.login(who))


def test_create_grades_the_source(personas) -> None:
    src = _create(personas)
    assert (src["is_major"], src["sum_q_over_Q"], src["R"]) == (True, 2.1, 11.1)
    assert (src["grade"], src["grade_label"], src["assessment_note"]) == (3, "三级", "")
    assert (src["filing_state"], src["filing_state_label"], src["filing_no"]) == (
        "unfiled",
        "未备案",
        "",
    )
    assert src["enterprise_name"] == "应县金鼎煤业有限公司"
    assert (src["division_code"], src["origin_node"], src["version"]) == (
        "140622",
        "node-140000",
        1,
    )
    assert src["monitoring_points"] == []
    (u,) = src["units"]
    # the unit as given (no head count of its own: the source's applies) and its result
    assert u["people_within_500m"] is None and u["chemicals"][0]["name"] == "液氯"
    result = u["result"]
    assert (result["people_within_500m"], result["alpha"], result["grade_label"]) == (
        60,
        1.5,
        "三级",
    )
    assert [(c["name"], c["q_over_Q"], c["beta"]) for c in result["chemicals"]] == [
        ("氯", 1.6, 4.0),
        ("氨", 0.5, 2.0),
    ]
    got = personas.client.get(f"{API}/{src['id']}", headers=personas.login("yingxian"))
    assert got.status_code == 200 and got.json()["R"] == 11.1


def test_the_highest_graded_unit_sets_the_grade(personas) -> None:
    small = unit({"name": "液氨", "quantity_t": 12}, name="液氨罐", people_within_500m=0)
    src = _create(personas, units=[small, CHLORINE_AND_AMMONIA])
    assert [u["result"]["grade_label"] for u in src["units"]] == ["四级", "三级"]
    assert (src["grade"], src["R"], src["sum_q_over_Q"]) == (3, 11.1, 2.1)


def test_a_source_below_the_thresholds_is_kept_but_not_major(personas) -> None:
    src = _create(personas, units=[unit({"name": "液氯", "quantity_t": 1})])
    assert (src["is_major"], src["grade"], src["grade_label"]) == (False, None, None)
    assert "未构成重大危险源" in src["assessment_note"]
    r = _act(personas, "qiye", src, "submit")
    assert r.status_code == 409 and "无需备案" in r.json()["detail"]


def test_an_unknown_chemical_is_422_naming_the_field(personas) -> None:
    body = major_hazard_source(
        personas,
        units=[unit({"name": "液氯", "quantity_t": 1}, {"name": "神秘物质", "quantity_t": 1})],
    )
    r = personas.client.post(API, json=body, headers=personas.login("qiye"))
    assert r.status_code == 422
    assert r.json()["field"] == "units.0.chemicals.1.name" and "未知化学品" in r.json()["detail"]
    bad = major_hazard_source(personas, people_within_500m=-1)
    r = personas.client.post(API, json=bad, headers=personas.login("qiye"))
    assert r.status_code == 422 and r.json()["field"] == "people_within_500m"
    with personas.db() as s:
        assert s.scalars(select(MajorHazardSource)).all() == []


def test_the_register_stays_in_the_jurisdiction(personas) -> None:
    src = _create(personas, who="yingxian")
    shanyin = personas.login("shanyin")
    assert personas.client.get(f"{API}/{src['id']}", headers=shanyin).status_code == 404
    assert personas.client.get(API, headers=shanyin).json() == {
        "total": 0,
        "total_exact": True,
        "items": [],
    }
    assert personas.client.get(f"{API}/summary", headers=shanyin).json()["total"] == 0
    r = personas.client.patch(f"{API}/{src['id']}", json={"name": "改"}, headers=shanyin)
    assert r.status_code == 404
    assert _act(personas, "shanyin", src, "submit").status_code == 404
    # 山阴 cannot register a source for 应县's enterprise, nor 应县's enterprise for 山阴's
    r = personas.client.post(API, json=major_hazard_source(personas), headers=shanyin)
    assert r.status_code == 404 and r.json()["field"] == "enterprise_id"
    r = personas.client.post(
        API, json=major_hazard_source(personas, "shan_chem"), headers=personas.login("qiye")
    )
    assert r.status_code == 404
    for who in ("qiye", "yingxian", "shuozhou", "sheng"):
        page = personas.client.get(API, headers=personas.login(who)).json()
        assert [s["id"] for s in page["items"]] == [src["id"]], who
    summary = personas.client.get(f"{API}/summary", headers=personas.login("sheng")).json()
    assert (summary["total"], summary["major"], summary["not_major"]) == (1, 1, 0)
    assert {g["label"]: g["count"] for g in summary["grades"]}["三级"] == 1
    assert {f["code"]: f["count"] for f in summary["filing"]}["unfiled"] == 1


def test_list_filters(personas) -> None:
    major = _create(personas)
    minor = _create(personas, name="小罐", units=[unit({"name": "液氯", "quantity_t": 1})])
    h = personas.login("yingxian")
    assert personas.client.get(API, params={"grade": 3}, headers=h).json()["total"] == 1
    assert personas.client.get(API, params={"grade": 1}, headers=h).json()["total"] == 0
    ids = [s["id"] for s in personas.client.get(API, headers=h).json()["items"]]
    assert ids == [major["id"], minor["id"]]  # graded first
    r = personas.client.get(API, params={"major": "false"}, headers=h).json()
    assert [s["id"] for s in r["items"]] == [minor["id"]]
    r = personas.client.get(API, params={"q": "小"}, headers=h).json()
    assert [s["id"] for s in r["items"]] == [minor["id"]]
    r = personas.client.get(API, params={"division": "140621"}, headers=h).json()
    assert r["total"] == 0
    r = personas.client.get(API, params={"filing_state": "filed"}, headers=h).json()
    assert r["total"] == 0
    bad = personas.client.get(API, params={"filing_state": "nonsense"}, headers=h)
    assert bad.status_code == 422 and bad.json()["field"] == "filing_state"


def test_filing_submit_file(personas) -> None:
    src = _create(personas)
    submitted = _act(personas, "qiye", src, "submit")
    assert submitted.status_code == 200, submitted.text
    assert (submitted.json()["filing_state"], submitted.json()["filing_state_label"]) == (
        "submitted",
        "已提交",
    )
    refused = _act(personas, "qiye", src, "file", filing_no="X")
    assert refused.status_code == 403 and "监督管理" in refused.json()["detail"]
    blank = _act(personas, "yingxian", src, "file", filing_no=" ")
    assert blank.status_code == 422 and blank.json()["field"] == "filing_no"
    filed = _act(personas, "yingxian", src, "file", filing_no="应应急危备〔2026〕1号")
    assert filed.status_code == 200, filed.text
    out = filed.json()
    assert (out["filing_state"], out["filing_state_label"]) == ("filed", "已备案")
    assert (out["filing_no"], out["filed_by"]) == ("应应急危备〔2026〕1号", "yingxian")
    assert out["filed_at"] is not None and out["version"] == 3
    with personas.db() as s:
        versions = s.scalars(
            select(OutboxEntry.version)
            .where(OutboxEntry.uid == src["uid"], OutboxEntry.entity == "major_hazard_source")
            .order_by(OutboxEntry.seq)
        ).all()
        assert versions == [1, 2, 3]
        last = s.scalar(
            select(OutboxEntry).where(OutboxEntry.uid == src["uid"], OutboxEntry.version == 3)
        )
        assert last.payload["filing_state"] == "filed"
        assert last.payload["enterprise_uid"] is not None
        assert last.payload["units"][0]["result"]["grade"] == 3
    records = personas.audits(object_type="major_hazard_source")
    assert [(a.action, a.actor_name) for a in records] == [
        ("major_hazard.create", "qiye"),
        ("major_hazard.submit", "qiye"),
        ("major_hazard.file", "yingxian"),
    ]
    assert records[-1].detail["filing_no"] == "应应急危备〔2026〕1号"
    denied = personas.audits("access.denied")
    assert any(f"/{src['id']}/file" in str(a.detail) for a in denied)


def test_filing_return_and_resubmit(personas) -> None:
    src = _create(personas)
    _act(personas, "qiye", src, "submit")
    assert _act(personas, "qiye", src, "return", reason="x").status_code == 403
    blank = _act(personas, "yingxian", src, "return", reason="")
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    returned = _act(personas, "yingxian", src, "return", reason="缺少安全评估报告")
    assert returned.status_code == 200, returned.text
    assert (returned.json()["filing_state"], returned.json()["filing_state_label"]) == (
        "returned",
        "退回",
    )
    assert returned.json()["return_reason"] == "缺少安全评估报告"
    again = _act(personas, "qiye", src, "submit")
    assert again.status_code == 200 and again.json()["filing_state"] == "submitted"
    assert again.json()["return_reason"] == ""
    assert [a.action for a in personas.audits(object_type="major_hazard_source")] == [
        "major_hazard.create",
        "major_hazard.submit",
        "major_hazard.return",
        "major_hazard.submit",
    ]


def test_illegal_filing_steps_are_409(personas) -> None:
    src = _create(personas)
    r = _act(personas, "yingxian", src, "file", filing_no="1")
    assert r.status_code == 409 and r.json()["field"] == "filing_state"
    assert "未备案" in r.json()["detail"]
    assert _act(personas, "yingxian", src, "return", reason="x").status_code == 409
    _act(personas, "qiye", src, "submit")
    twice = _act(personas, "qiye", src, "submit")
    assert twice.status_code == 409 and "已提交" in twice.json()["detail"]
    _act(personas, "yingxian", src, "file", filing_no="1")
    assert _act(personas, "qiye", src, "submit").status_code == 409
    assert _act(personas, "yingxian", src, "return", reason="x").status_code == 409
    assert _act(personas, "yingxian", src, "file", filing_no="2").status_code == 409
    # the three responsible persons are named before filing
    nobody = _create(personas, responsible_technical="")
    r = _act(personas, "qiye", nobody, "submit")
    assert r.status_code == 409 and r.json()["field"] == "responsible_technical"
    assert "技术负责人" in r.json()["detail"]


def test_new_units_after_filing_renew_the_filing(personas) -> None:
    src = _create(personas)
    _act(personas, "qiye", src, "submit")
    _act(personas, "yingxian", src, "file", filing_no="备-1")
    h = personas.login("qiye")
    # new persons (or the same units again) leave the filing alone
    r = personas.client.patch(
        f"{API}/{src['id']}",
        json={"responsible_operational": "赵班长", "units": [CHLORINE_AND_AMMONIA]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["filing_state"], r.json()["responsible_operational"]) == ("filed", "赵班长")
    more = unit({"name": "液氯", "quantity_t": 65}, {"name": "液氨", "quantity_t": 5})
    r = personas.client.patch(f"{API}/{src['id']}", json={"units": [more]}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["grade_label"], out["R"]) == ("二级", 79.5)  # 1.5 × (4 × 13 + 2 × 0.5)
    assert (out["filing_state"], out["filing_no"], out["filed_by"], out["filed_at"]) == (
        "unfiled",
        "",
        "",
        None,
    )
    # the head count is part of the identification too
    r = personas.client.patch(f"{API}/{src['id']}", json={"people_within_500m": 120}, headers=h)
    assert r.json()["R"] == 106.0 and r.json()["grade_label"] == "一级"
    assert (
        personas.client.patch(f"{API}/{src['id']}", json={"name": None}, headers=h).status_code
        == 422
    )
    updates = personas.audits("major_hazard.update")
    assert [u.detail["fields"] for u in updates] == [
        ["responsible_operational"],
        ["units"],
        ["people_within_500m"],
    ]
    reset = updates[1].detail["filing_reset"]
    assert (reset["from"], reset["filing_no"]) == ("filed", "备-1")
    assert "重新备案" in reset["reason"]
    assert updates[1].detail["reassessed"]["to"] == {"is_major": True, "grade": 2}
    assert "filing_reset" not in updates[2].detail  # it was unfiled already


def test_an_enterprise_of_another_county_files_with_its_own_county(personas) -> None:
    personas.add_user(
        "huagong", "enterprise", "140621", enterprise_id=personas.enterprises["shan_chem"]
    )
    src = _create(personas, who="huagong", enterprise="shan_chem")
    assert src["enterprise_name"] == "山阴县晋北化工有限公司"
    assert _act(personas, "huagong", src, "submit").status_code == 200
    assert _act(personas, "yingxian", src, "file", filing_no="1").status_code == 404
    # the coal-mine inspection bureau sees coal mines only
    assert _act(personas, "jianchaju", src, "file", filing_no="1").status_code == 404
    r = _act(personas, "shanyin", src, "file", filing_no="山应急危备〔2026〕7号")
    assert r.status_code == 200 and r.json()["filed_by"] == "shanyin"


def test_a_copy_from_another_node_is_read_only(personas) -> None:
    src = _create(personas)
    with personas.db() as s:
        s.get(MajorHazardSource, src["id"]).origin_node = "node-other"
    h = personas.login("qiye")
    r = personas.client.patch(f"{API}/{src['id']}", json={"name": "改名"}, headers=h)
    assert r.status_code == 403 and "只读" in r.json()["detail"]
    assert _act(personas, "qiye", src, "submit").status_code == 403
    assert personas.client.get(f"{API}/{src['id']}", headers=h).json()["name"] == "液氯液氨储罐区"
