"""The risk-grading calculator and tables through the API: logged-in users only, the node's
conventions from the settings, 422s that name the field, and nothing saved."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from anjian.config import get_settings
from anjian.core.sync.models import OutboxEntry

API = "/api/v1/risk"


@pytest.fixture
def admin(personas: Any) -> dict[str, str]:
    return personas.login("admin")


def _assess(node: Any, headers: dict[str, str], **body: Any) -> Any:
    return node.client.post(f"{API}/assess", headers=headers, json=body)


def _assessed(node: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """The calculator's answer to ``body``, which must be accepted."""
    r = _assess(node, headers, **body)
    assert r.status_code == 200, r.text
    return r.json()


def test_lec_and_ls_assessments(personas: Any, admin: dict[str, str]) -> None:
    with personas.db() as s:
        outbox_before = s.scalar(select(func.count()).select_from(OutboxEntry))
    assert _assessed(personas, admin, method="LEC", L=6, E=6, C=15) == {
        "method": "LEC",
        "score": 540,
        "D": 540,
        "level": "major",
        "level_label": "重大风险",
        "colour": "red",
        "colour_label": "红",
        "band": "极其危险，不能继续作业",
        "convention": "A",
    }
    assert _assessed(personas, admin, method="ls", L=4, S=3) == {
        "method": "LS",
        "score": 12,
        "R": 12,
        "level": "significant",
        "level_label": "较大风险",
        "colour": "orange",
        "colour_label": "橙",
        "convention": "B",
    }
    # An enterprise user may use the calculator too; it saves nothing.
    r = _assess(personas, personas.login("qiye"), method="LEC", L=0.1, E=0.5, C=1)
    assert r.status_code == 200 and r.json()["D"] == 0.05 and r.json()["level"] == "low"
    with personas.db() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == outbox_before


def test_login_required(node: Any) -> None:
    assert node.client.post(f"{API}/assess", json={"method": "LS", "L": 1, "S": 1}).status_code == (
        401
    )
    assert node.client.get(f"{API}/tables").status_code == 401


# Each request body and the field its 422 must name.
BAD_REQUESTS: list[tuple[dict[str, Any], str]] = [
    ({"method": "LEC", "L": 4, "E": 6, "C": 15}, "L"),
    ({"method": "LEC", "L": 6, "E": 6}, "C"),
    ({"method": "LEC", "E": 6, "C": 15}, "L"),
    ({"method": "LEC", "L": 6, "E": 5, "C": 15}, "E"),
    ({"method": "LEC", "L": True, "E": 6, "C": 15}, "L"),
    ({"method": "LEC", "L": "6", "E": 6, "C": 15}, "L"),
    ({"method": "LS", "L": 3}, "S"),
    ({"method": "LS", "L": 3, "S": 6}, "S"),
    ({"method": "LS", "L": 3, "S": 2, "E": 6}, "E"),
    ({"method": "MES", "L": 3, "S": 2}, "method"),
    ({"L": 3, "S": 2}, "method"),
    ({"method": "LS", "L": 3, "S": 2, "X": 1}, "X"),
]


def test_bad_requests_name_the_field(personas: Any, admin: dict[str, str]) -> None:
    for body, field in BAD_REQUESTS:
        r = personas.client.post(f"{API}/assess", headers=admin, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == field, (body, r.json())
        assert r.json()["detail"]
    r = _assess(personas, admin, method="LEC", L=4, E=6, C=15)
    assert "10、6、3、1、0.5、0.2、0.1" in r.json()["detail"]


def test_conventions_come_from_the_settings(
    personas: Any, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lec = {"method": "LEC", "L": 0.2, "E": 6, "C": 100}  # D = 120
    ls = {"method": "LS", "L": 2, "S": 5}  # R = 10
    assert _assess(personas, admin, **lec).json()["level"] == "general"
    assert _assess(personas, admin, **ls).json()["level"] == "significant"
    monkeypatch.setenv("ANJIAN_RISK_LEC_CONVENTION", "B")
    monkeypatch.setenv("ANJIAN_RISK_LS_CONVENTION", "A")
    get_settings.cache_clear()
    got = _assess(personas, admin, **lec).json()
    assert (got["level"], got["convention"], got["D"]) == ("significant", "B", 120)
    got = _assess(personas, admin, **ls).json()
    assert (got["level"], got["convention"]) == ("general", "A")
    # Exact arithmetic survives JSON: 0.1 × 2 × 100 is 20, 低 under B.
    got = _assess(personas, admin, method="LEC", L=0.1, E=2, C=100).json()
    assert (got["D"], got["level"], got["band"]) == (20, "low", "稍有危险，可以接受")
    tables = personas.client.get(f"{API}/tables", headers=admin).json()
    assert tables["LEC"]["convention"] == "B" and tables["LS"]["convention"] == "A"
    assert [t["range"] for t in tables["LS"]["thresholds"]] == ["20–25", "15–16", "9–12", "1–8"]


def test_tables(personas: Any, admin: dict[str, str]) -> None:
    r = personas.client.get(f"{API}/tables", headers=admin)
    assert r.status_code == 200, r.text
    t = r.json()
    assert [lv["level"] for lv in t["levels"]] == ["major", "significant", "general", "low"]
    assert [lv["colour"] for lv in t["levels"]] == ["red", "orange", "yellow", "blue"]
    assert [o["value"] for o in t["LEC"]["L"]] == [10, 6, 3, 1, 0.5, 0.2, 0.1]
    assert [o["value"] for o in t["LEC"]["E"]] == [10, 6, 3, 2, 1, 0.5]
    assert [o["value"] for o in t["LEC"]["C"]] == [100, 40, 15, 7, 3, 1]
    assert t["LEC"]["C"][0]["meaning"] == "大灾难，许多人死亡"
    assert t["LEC"]["convention"] == "A"
    assert t["LEC"]["thresholds"][0] == {
        "level": "major",
        "label": "重大风险",
        "colour": "red",
        "colour_label": "红",
        "range": "D ≥ 320",
        "min": 320,
        "min_inclusive": True,
        "max": None,
        "max_inclusive": False,
    }
    assert [b["range"] for b in t["LEC"]["bands"]][-1] == "D < 20"
    assert [o["value"] for o in t["LS"]["S"]] == [1, 2, 3, 4, 5]
    assert t["LS"]["convention"] == "B"
    assert [x["range"] for x in t["LS"]["thresholds"]] == ["20–25", "10–16", "4–9", "1–3"]
