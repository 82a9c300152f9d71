"""Paged lists: every list endpoint that pages takes the same ``page`` and ``size``."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_paged_list_takes_page_and_size_and_names_a_bad_one(personas: Any) -> None:
    spec = personas.client.get("/openapi.json").json()
    paged = [
        path
        for path, ops in spec["paths"].items()
        if "get" in ops
        and {"page", "size"} <= {p["name"] for p in ops["get"].get("parameters", [])}
        and "{" not in path
    ]
    assert len(paged) >= 8, paged
    headers = personas.login("sheng")
    for path in paged:
        too_big = personas.client.get(path, params={"size": 501}, headers=headers)
        assert too_big.status_code == 422 and "size" in too_big.text, (path, too_big.text)
        bad_page = personas.client.get(path, params={"page": 0}, headers=headers)
        assert bad_page.status_code == 422 and "page" in bad_page.text, (path, bad_page.text)
        one = personas.client.get(path, params={"page": 1, "size": 1}, headers=headers)
        assert one.status_code == 200, (path, one.text)
        assert len(one.json()["items"]) <= 1 and isinstance(one.json()["total"], int), path
        if one.json()["total"] >= 2:
            two = personas.client.get(path, params={"page": 2, "size": 1}, headers=headers)
            assert two.json()["items"] != one.json()["items"], path  # the next row, not the first
