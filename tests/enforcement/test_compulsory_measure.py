"""强制措施决定书: an inspecting agency seals, seizes or suspends on the grounds of the findings
of an inspection under way or done — numbered in its own series, with the seal's last day
(行政强制法 Art. 25: 30 days), refused without grounds, a measure or its subject."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
from docx import Document

from anjian.core.clock import today_in_china
from anjian.enforcement.rules.documents import CompulsoryMeasure, measure_last_day
from enforcement_world import API, officer, plan_inspection


@pytest.mark.parametrize(
    ("measure", "decided", "last"),
    [
        (CompulsoryMeasure.SEAL, date(2026, 12, 1), date(2026, 12, 31)),
        (CompulsoryMeasure.SEIZE, date(2026, 2, 1), date(2026, 3, 3)),  # February has 28 days
        (CompulsoryMeasure.SUSPEND, date(2026, 12, 1), None),  # until the hazard is removed
    ],
)
def test_a_seal_lasts_thirty_days_not_counting_the_day_of_the_decision(
    measure: CompulsoryMeasure, decided: date, last: date | None
) -> None:
    assert measure_last_day(measure, decided) == last


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    personas.officers = [officer(personas, "yingxian", "C1"), officer(personas, "zf1", "C2")]
    personas.inspection = plan_inspection(personas).json()["id"]
    return personas


def _issue(node: Any, **body: Any) -> Any:
    return node.client.post(
        f"{API}/inspections/{node.inspection}/documents",
        headers=node.headers,
        json={"kind": "compulsory_measure", **body},
    )


def test_a_seal_on_the_grounds_of_a_finding(county: Any) -> None:
    seal = {"measure": "seal", "subject": "北翼回风巷 2 号局部通风机"}
    r = _issue(county, **seal)
    assert r.status_code == 409 and r.json()["field"] == "state"  # not on site yet
    county.client.post(f"{API}/inspections/{county.inspection}/start", headers=county.headers)
    r = _issue(county, **seal)
    assert r.status_code == 409 and r.json()["field"] == "kind"  # no grounds yet
    r = county.client.post(
        f"{API}/inspections/{county.inspection}/findings",
        headers=county.headers,
        json={"place": "北翼回风巷", "description": "局部通风机无风电闭锁", "major": True},
    )
    assert r.status_code == 201, r.text
    assert _issue(county, subject="通风机").json()["field"] == "measure"
    assert _issue(county, measure="seal", subject="  ").json()["field"] == "subject"
    assert _issue(county, measure="burn", subject="通风机").status_code == 422

    r = _issue(county, **seal)
    assert r.status_code == 201, r.text
    doc = r.json()
    year = today_in_china().year
    assert doc["number"] == f"应县应急强措〔{year}〕1号" and doc["kind_label"] == "强制措施决定书"
    second = _issue(county, measure="suspend", subject="北翼采区")
    assert second.json()["number"] == f"应县应急强措〔{year}〕2号"

    drawn = county.client.get(f"{API}/documents/{doc['id']}.docx", headers=county.headers)
    assert drawn.status_code == 200
    text = "\n".join(p.text for p in Document(BytesIO(drawn.content)).paragraphs)
    last = today_in_china() + timedelta(days=30)
    assert "北翼回风巷 2 号局部通风机查封" in text and "局部通风机无风电闭锁" in text
    assert last.strftime("至%Y年%m月%d日止") in text
    suspended = county.client.get(
        f"{API}/documents/{second.json()['id']}.docx", headers=county.headers
    )
    assert "重大事故隐患排除" in "\n".join(
        p.text for p in Document(BytesIO(suspended.content)).paragraphs
    )


def test_only_the_inspecting_agency_takes_a_measure(county: Any) -> None:
    county.client.post(f"{API}/inspections/{county.inspection}/start", headers=county.headers)
    county.client.post(
        f"{API}/inspections/{county.inspection}/findings",
        headers=county.headers,
        json={"place": "井口", "description": "无证开采"},
    )
    r = county.client.post(
        f"{API}/inspections/{county.inspection}/documents",
        headers=county.login("shanyin"),
        json={"kind": "compulsory_measure", "measure": "seize", "subject": "炸药"},
    )
    assert r.status_code == 404
