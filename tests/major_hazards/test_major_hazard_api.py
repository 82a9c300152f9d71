"""The GB 18218-2018 calculator through the API: any logged-in user may assess, nothing is saved,
and a bad chemical or quantity comes back as a 422 naming its field."""

from __future__ import annotations

from typing import Any

import pytest

API = "/api/v1/major-hazards/assess"


def body(*chemicals: dict[str, Any], people: int = 60, kind: str = "storage") -> dict[str, Any]:
    return {
        "units": [
            {
                "name": "液氯液氨罐区",
                "kind": kind,
                "people_within_500m": people,
                "chemicals": list(chemicals),
            }
        ]
    }


CHLORINE_AND_AMMONIA = body({"name": "液氯", "quantity_t": 8}, {"name": "液氨", "quantity_t": 5})


@pytest.mark.parametrize("persona", ["yingxian", "qiye"])
def test_assess_worked_example(personas: Any, persona: str) -> None:
    r = personas.client.post(API, json=CHLORINE_AND_AMMONIA, headers=personas.login(persona))
    assert r.status_code == 200, r.text
    (u,) = r.json()["units"]
    assert u["is_major"] is True
    assert (u["sum_q_over_Q"], u["R"], u["alpha"]) == (2.1, 11.1, 1.5)
    assert (u["grade"], u["grade_label"], u["kind"], u["kind_label"]) == (
        3,
        "三级",
        "storage",
        "储存单元",
    )
    assert [
        (c["name"], c["cas"], c["critical_quantity_t"], c["q_over_Q"], c["beta"])
        for c in u["chemicals"]
    ] == [
        ("氯", "7782-50-5", 5.0, 1.6, 4.0),
        ("氨", "7664-41-7", 10.0, 0.5, 2.0),
    ]
    assert {c["beta_source"] for c in u["chemicals"]} == {"table3"}
    assert u["warnings"] == []


def test_assess_several_units_rounds_and_flags(personas: Any) -> None:
    request = body({"name": "光气", "quantity_t": 0.1})  # q/Q = 1/3
    request["units"].append(
        {
            "name": "丙烯球罐",
            "kind": "production",
            "people_within_500m": 0,
            "chemicals": [
                {"name": "丙烯", "quantity_t": 4, "category": "W2"},
                {"cas": "7446-11-9", "quantity_t": 1},
            ],
        }
    )
    r = personas.client.post(API, json=request, headers=personas.login("sheng"))
    assert r.status_code == 200, r.text
    phosgene, propylene = r.json()["units"]
    assert (phosgene["sum_q_over_Q"], phosgene["is_major"]) == (0.3333, False)
    assert (phosgene["grade"], phosgene["grade_label"]) == (None, None)
    assert propylene["sum_q_over_Q"] == round(0.4 + 1 / 75, 4)
    chems = propylene["chemicals"]
    assert (chems[0]["category"], chems[0]["beta"], chems[0]["beta_source"]) == (
        "W2",
        1.5,
        "table4",
    )
    assert (chems[1]["name"], chems[1]["beta_source"]) == ("三氧化硫", "default")
    assert len(propylene["warnings"]) == 1


def test_assess_requires_login(personas: Any) -> None:
    r = personas.client.post(API, json=CHLORINE_AND_AMMONIA)
    assert r.status_code == 401
    assert "未登录" in r.json()["detail"]


@pytest.mark.parametrize(
    ("chemicals", "field", "words"),
    [
        (
            [{"name": "液氯", "quantity_t": 1}, {"name": "某某", "quantity_t": 1}],
            "units.0.chemicals.1.name",
            "未知化学品: 某某",
        ),
        ([{"cas": "9004-70-0", "quantity_t": 1}], "units.0.chemicals.0.cas", "无法确定"),
        ([{"cas": "1333-74-1", "quantity_t": 1}], "units.0.chemicals.0.cas", "校验位"),
        (
            [{"name": "丙烯", "quantity_t": 1, "category": "W99"}],
            "units.0.chemicals.0.category",
            "未知危险性类别",
        ),
        ([{"name": "液氯", "quantity_t": -1}], "units.0.chemicals.0.quantity_t", "非负"),
        ([{"name": "液氯"}], "units.0.chemicals.0.quantity_t", ""),
        ([], "units.0.chemicals", "化学品应为"),
    ],
)
def test_assess_refusals_name_the_field(
    personas: Any, chemicals: list[dict[str, Any]], field: str, words: str
) -> None:
    r = personas.client.post(API, json=body(*chemicals), headers=personas.login("yingxian"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert words in r.json()["detail"]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_assess_refuses_non_finite_quantity(personas: Any, token: str) -> None:
    raw = (
        '{"units": [{"name": "罐区", "kind": "storage", "people_within_500m": 1, '
        f'"chemicals": [{{"name": "液氯", "quantity_t": {token}}}]}}]}}'
    )
    r = personas.client.post(
        API,
        content=raw,
        headers={**personas.login("yingxian"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "units.0.chemicals.0.quantity_t"


@pytest.mark.parametrize(
    ("unit", "field"),
    [
        ({"kind": "warehouse"}, "units.0.kind"),
        ({"people_within_500m": -1}, "units.0.people_within_500m"),
    ],
)
def test_assess_refuses_bad_units(personas: Any, unit: dict[str, Any], field: str) -> None:
    request = body({"name": "液氯", "quantity_t": 1})
    request["units"][0].update(unit)
    r = personas.client.post(API, json=request, headers=personas.login("yingxian"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
