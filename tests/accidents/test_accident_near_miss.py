"""较大涉险事故 (SAWS Order No. 21 Art. 26): reported with the criterion that makes it one,
passed up like a 较大 accident (to the province), listed and counted apart from accidents."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from anjian.core.sync.models import OutboxEntry
from samples import accident_report

NEAR_MISS = {"kind": "near_miss", "near_miss_criterion": "trapped_3"}


def _file(node: Any, headers: dict[str, str], **extra: Any) -> Any:
    body = accident_report(**{"deaths": 0, "missing": 0, "serious_injuries": 0, **extra})
    return node.client.post("/api/v1/accidents", json=body, headers=headers)


def test_a_near_miss_is_reported_up_to_the_province(personas: Any) -> None:
    node = personas
    county = node.login("yingxian")
    r = _file(node, county, **NEAR_MISS)
    assert r.status_code == 201, r.text
    acc = r.json()
    assert (acc["kind"], acc["kind_label"], acc["near_miss_criterion"]) == (
        "near_miss",
        "较大涉险事故",
        "trapped_3",
    )
    assert "被困" in acc["near_miss_criterion_label"]
    # no casualties (一般 by the numbers) but it goes as far as a 较大 accident
    assert (acc["grade_label"], acc["report_to"]) == ("一般", "province")
    assert [s["tier"] for s in acc["chain"]] == ["county", "city", "province"]
    up = node.client.post(f"/api/v1/accidents/{acc['id']}/report-up", headers=county)
    assert up.status_code == 200
    city = node.login("shuozhou")
    assert node.client.post(f"/api/v1/accidents/{acc['id']}/report-up", headers=city).is_success
    # the kind and criterion travel up with the record (the sync carries every column)
    with node.db() as s:
        sent = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "accident")).all()
        assert sent and all(
            e.payload["kind"] == "near_miss" and e.payload["near_miss_criterion"] == "trapped_3"
            for e in sent
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_near_miss_names_its_criterion(personas: Any) -> None:
    node = personas
    county = node.login("yingxian")
    for extra, field in (
        ({"kind": "near_miss"}, "near_miss_criterion"),  # the criterion is required
        ({"kind": "near_miss", "near_miss_criterion": ""}, "near_miss_criterion"),
        ({"kind": "near_miss", "near_miss_criterion": "meteor"}, "near_miss_criterion"),
        ({"near_miss_criterion": "trapped_3"}, "near_miss_criterion"),  # an accident has none
        ({"kind": "incident"}, "kind"),
        ({"kind": "near_miss\x00"}, "kind"),
        ({"kind": "n" * 10_000}, "kind"),
        ({"kind": 1}, "kind"),
    ):
        r = _file(node, county, **extra)
        assert r.status_code == 422 and r.json()["field"] == field, (extra, r.text)


def test_near_misses_are_listed_and_counted_apart(personas: Any) -> None:
    node = personas
    county = node.login("yingxian")
    when = {"occurred_at": "2026-03-01T08:00:00+08:00"}
    assert _file(node, county, **NEAR_MISS, **when).status_code == 201
    assert _file(node, county, deaths=1, **when).status_code == 201  # an 一般 accident
    sheng = node.login("sheng")
    listing = node.client.get("/api/v1/accidents", headers=sheng).json()
    assert listing["total"] == 2
    only = node.client.get("/api/v1/accidents?kind=near_miss", headers=sheng).json()
    assert [a["kind"] for a in only["items"]] == ["near_miss"]
    accidents = node.client.get("/api/v1/accidents?kind=accident", headers=sheng).json()
    assert [a["deaths"] for a in accidents["items"]] == [1]
    bad = node.client.get("/api/v1/accidents?kind=other", headers=sheng)
    assert bad.status_code == 422 and bad.json()["field"] == "kind"
    # statistics: one accident, one near miss beside it; grades hold accidents only
    period = {"start": "2026-01-01", "end": "2026-06-30"}
    url = "/api/v1/accidents/statistics"
    table = node.client.get(url, params=period, headers=sheng).json()
    assert (table["total"]["count"], table["total"]["near_misses"]) == (1, 1)
    assert table["total"]["deaths"] == 1
    grades = node.client.get(url, params={**period, "by": "grade"}, headers=sheng).json()
    assert {r["label"]: r["count"] for r in grades["rows"]} == {
        "特别重大": 0,
        "重大": 0,
        "较大": 0,
        "一般": 1,
    }
