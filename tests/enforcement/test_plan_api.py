"""Annual inspection plans: frequency by risk class (a 重大-risk mine each quarter), monthly
targets, progress from the inspections the agency finished, who is behind; scope and input."""

from __future__ import annotations

from typing import Any

import pytest

from anjian.core.clock import today_in_china
from enforcement_world import API, finished_inspection


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    # A 重大 risk point (LEC 6 × 6 × 15 = 540) makes the 应县 mine a quarterly one.
    r = personas.client.post(
        "/api/v1/risk/points",
        headers=personas.login("qiye"),
        json={
            "enterprise_id": personas.enterprises["ying_mine"],
            "name": "主斜井带式输送机",
            "kind": "facility",
            "location": "主斜井",
            "hazards": "皮带着火",
            "method": "LEC",
            "L": 6,
            "E": 6,
            "C": 15,
            "control_measures": "每日检查",
            "control_level": "company",
            "responsible": "李安全",
        },
    )
    assert r.status_code == 201, r.text
    return personas


def test_a_plan_counts_what_is_due_and_what_was_done(county: Any) -> None:
    year = today_in_china().year
    r = county.client.post(
        f"{API}/plans", headers=county.headers, json={"name": "年度计划", "year": year}
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["enterprises"] == 1 and plan["required"] == 4 and plan["done"] == 0
    assert plan["monthly_target"] == [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4]
    assert plan["frequency"]["major"] == 4 and plan["progress"] == 0.0
    finished_inspection(county, planned_on=today_in_china().isoformat())
    plan = county.client.get(f"{API}/plans/{plan['id']}", headers=county.headers).json()
    assert plan["done"] == 1 and plan["progress"] == 25.0
    assert plan["monthly_done"][today_in_china().month - 1] == 1
    (behind,) = plan["behind"]
    assert behind["name"] == "应县金鼎煤业有限公司" and (behind["required"], behind["done"]) == (
        4,
        1,
    )
    # A plan for hazardous chemicals only has nobody in 应县; the same name twice is a conflict.
    r = county.client.post(
        f"{API}/plans",
        headers=county.headers,
        json={
            "name": "危化专项",
            "year": year,
            "categories": ["hazardous_chemicals"],
            "frequency": {"ungraded": 2},
        },
    )
    assert r.json()["enterprises"] == 0 and r.json()["progress"] is None
    again = county.client.post(
        f"{API}/plans", headers=county.headers, json={"name": "年度计划", "year": year}
    )
    assert again.status_code == 409
    listed = county.client.get(f"{API}/plans", headers=county.headers).json()
    assert listed["total"] == 2
    # Scope: the city sees the county's plans, the other county does not.
    assert county.client.get(f"{API}/plans", headers=county.login("shuozhou")).json()["total"] == 2
    assert county.client.get(f"{API}/plans", headers=county.login("shanyin")).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "year": 2026}, "name"),
        ({"name": "x", "year": 1999}, "year"),
        ({"name": "x", "year": 2026, "frequency": {"major": 53}}, "frequency"),
        ({"name": "x", "year": 2026, "frequency": {"extreme": 1}}, "frequency"),
        ({"name": "x", "year": 2026, "categories": ["mines"]}, "categories"),
    ],
)
@pytest.mark.one_backend
def test_bad_plans_are_refused_naming_the_field(county: Any, body: dict, field: str) -> None:
    r = county.client.post(f"{API}/plans", headers=county.headers, json=body)
    assert r.status_code == 422 and field in r.text, r.text
