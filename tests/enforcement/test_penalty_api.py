"""Penalty cases through the API: filed on a legal basis, notified with a fine in its discretion
band (告知书 issued), decided only after the party's periods ran out and never heavier than the
notice (决定书 issued), paid to the fen with the surcharge of late payment, closed; hearings
requested in time only; the agency alone acts; refused input names its field."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from docx import Document

API = "/api/v1/enforcement"


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    return personas


def _file(node: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    body = {
        "enterprise_id": node.enterprises["ying_mine"],
        "basis": "SCF102",
        "facts": "2026年11月1日检查发现北翼回风巷风门损坏未消除",
        "filed_on": "2026-11-02",
        **body,
    }
    return node.client.post(f"{API}/penalties", headers=headers or node.headers, json=body)


def _step(node: Any, case_id: int, step: str, body: Any = None) -> Any:
    return node.client.post(f"{API}/penalties/{case_id}/{step}", headers=node.headers, json=body)


def test_a_case_from_filing_to_closing_on_its_clocks(county: Any) -> None:
    r = _file(county)
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["stage"] == "filed" and case["stage_label"] == "已立案"
    assert case["range_low"] == "0.00" and case["range_high"] == "50000.00"
    assert case["decision_deadline"] == "2027-01-31"  # 90 days from 2026-11-02
    cid = case["id"]
    # The ordinary band of 0–50 000 is 16 667–33 333.
    r = _step(
        county,
        cid,
        "notice",
        {"fine": "40000", "discretion": "ordinary", "notified_on": "2026-11-03"},
    )
    assert r.status_code == 422 and r.json()["field"] == "amount"
    r = _step(
        county,
        cid,
        "notice",
        {"fine": "20000", "discretion": "ordinary", "notified_on": "2026-11-03"},
    )
    assert r.status_code == 200, r.text
    case = r.json()
    # Tuesday 2026-11-03: three working days → Friday 6th, five → Tuesday 10th.
    assert case["statement_deadline"] == "2026-11-06"
    assert case["hearing_request_deadline"] == "2026-11-10"
    assert case["proposed_fine"] == "20000.00" and case["calendar_provisional"] is False
    (notice,) = case["documents"]
    assert notice["kind_label"] == "行政处罚告知书" and "罚告〔" in notice["number"]
    # Not before the party's periods ran out; never heavier than the notice.
    early = {"fine": "18000", "discretion": "ordinary", "decided_on": "2026-11-10"}
    r = _step(county, cid, "decision", early)
    assert r.status_code == 409 and r.json()["field"] == "decided_on"
    heavier = {"fine": "25000", "discretion": "ordinary", "decided_on": "2026-11-16"}
    r = _step(county, cid, "decision", heavier)
    assert r.status_code == 422 and r.json()["field"] == "fine"
    r = _step(county, cid, "decision", {**heavier, "fine": "18000"})
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["stage"] == "decided" and case["payment_deadline"] == "2026-12-01"
    decision = case["documents"][1]
    assert decision["kind_label"] == "行政处罚决定书"
    text = "\n".join(
        p.text
        for p in Document(
            BytesIO(
                county.client.get(
                    f"{API}/documents/{decision['id']}.docx", headers=county.headers
                ).content
            )
        ).paragraphs
    )
    assert "罚款人民币 18000.00 元" in text and "2026年12月01日" in text and "第一百零二条" in text
    # Two days late: 3 % a day of 18 000 = 1 080 more; anything else is refused with the sum.
    r = _step(county, cid, "payment", {"paid_on": "2026-12-03", "amount": "18000"})
    assert r.status_code == 422 and "19080.00" in r.json()["detail"]
    assert _step(county, cid, "close").status_code == 409  # not paid yet
    r = _step(county, cid, "payment", {"paid_on": "2026-12-03", "amount": "19080.00"})
    assert r.status_code == 200, r.text
    assert r.json()["late_fee"] == "1080.00" and r.json()["paid"] == "19080.00"
    r = _step(county, cid, "close")
    assert r.status_code == 200 and r.json()["stage"] == "closed"
    assert _step(county, cid, "close").status_code == 409


def test_a_hearing_only_when_requested_in_time(county: Any) -> None:
    cid = _file(county).json()["id"]
    _step(
        county,
        cid,
        "notice",
        {"fine": "10000", "discretion": "lenient", "notified_on": "2026-11-03"},
    )
    r = _step(county, cid, "hearing", {"requested_on": "2026-11-11"})
    assert r.status_code == 409 and "2026年11月10日" in r.json()["detail"]
    r = _step(county, cid, "hearing", {"requested_on": "2026-11-10"})
    assert r.status_code == 200 and r.json()["stage"] == "hearing"
    # After a hearing the decision need not wait for the periods.
    r = _step(
        county, cid, "decision", {"fine": "0", "discretion": "lenient", "decided_on": "2026-11-10"}
    )
    assert r.status_code == 200, r.text
    # A decision without a fine closes at once.
    assert _step(county, cid, "close").json()["stage"] == "closed"


def test_only_the_filing_agency_acts_and_scope_holds(county: Any) -> None:
    cid = _file(county).json()["id"]
    city = county.login("shuozhou")
    assert county.client.get(f"{API}/penalties/{cid}", headers=city).status_code == 200
    r = county.client.post(
        f"{API}/penalties/{cid}/notice",
        headers=city,
        json={"fine": "20000", "discretion": "ordinary", "notified_on": "2026-11-03"},
    )
    assert r.status_code == 403
    shanyin = county.login("shanyin")
    assert county.client.get(f"{API}/penalties/{cid}", headers=shanyin).status_code == 404
    assert _file(county, shanyin).status_code == 404
    assert county.client.get(f"{API}/penalties", headers=county.login("qiye")).status_code == 403
    bases = county.client.get(f"{API}/penalty-bases", headers=county.headers).json()
    assert "未逐条核对" in bases["note"] and any(b["code"] == "SCF102" for b in bases["bases"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"basis": "NOPE"}, "basis"),
        ({"basis": ""}, "basis"),
        ({"facts": ""}, "facts"),
        ({"filed_on": "2999-01-01"}, "filed_on"),
        ({"enterprise_id": 0}, "enterprise_id"),
        ({"inspection_id": 2**40}, "inspection_id"),
        ({"inspection_id": 99}, "inspection_id"),
    ],
)
@pytest.mark.one_backend
def test_bad_filings_are_refused_naming_the_field(county: Any, body: dict, field: str) -> None:
    r = _file(county, **body)
    assert r.status_code in (404, 422), r.text
    assert field in r.text or r.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fine": "-1", "discretion": "ordinary", "notified_on": "2026-11-03"}, "fine"),
        ({"fine": "1e12", "discretion": "ordinary", "notified_on": "2026-11-03"}, "fine"),
        ({"fine": "NaN", "discretion": "ordinary", "notified_on": "2026-11-03"}, "fine"),
        ({"fine": "20000.001", "discretion": "ordinary", "notified_on": "2026-11-03"}, "fine"),
        ({"fine": "20000", "discretion": "harsh", "notified_on": "2026-11-03"}, "discretion"),
        ({"fine": "20000", "discretion": "ordinary", "notified_on": "2026-11-01"}, "notified_on"),
        ({"fine": "20000", "discretion": "ordinary", "notified_on": "2999-11-01"}, "notified_on"),
    ],
)
@pytest.mark.one_backend
def test_bad_notices_are_refused_and_change_nothing(county: Any, body: dict, field: str) -> None:
    cid = _file(county).json()["id"]
    r = _step(county, cid, "notice", body)
    assert r.status_code == 422 and field in r.text, r.text
    case = county.client.get(f"{API}/penalties/{cid}", headers=county.headers).json()
    assert case["stage"] == "filed" and case["documents"] == []
