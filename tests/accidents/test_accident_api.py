"""The grade calculator through the API, as an official uses it in the first minutes."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_classify_without_saving(personas: Any) -> None:
    node = personas
    headers = node.login("yingxian")
    url = "/api/v1/accidents/classify"
    r = node.client.post(
        url, json={"deaths": 2, "missing": 1, "serious_injuries": 4}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "grade": "较大",
        "grade_code": 3,
        "criterion": "deaths",
        "criterion_label": "死亡人数",
        "grade_without_missing": "一般",
        "provisional": True,
        "report_to": "province",
    }
    r = node.client.post(url, json={"direct_loss_cny": 100_000_000}, headers=headers)
    assert (r.json()["grade"], r.json()["report_to"]) == ("特别重大", "national")
    for body, field in (
        ({"deaths": -1}, "deaths"),
        ({"deaths": "3"}, "deaths"),
        ({"deaths": 2.5}, "deaths"),
        ({"direct_loss_cny": -5}, "direct_loss_cny"),
        ({"injured": 3}, "injured"),
    ):
        r = node.client.post(url, json=body, headers=headers)
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.text)
    assert node.client.post(url, json={}).status_code == 401
