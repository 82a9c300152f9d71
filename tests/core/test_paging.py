"""Paged lists: every list endpoint that pages takes the same ``page`` and ``size``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text


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


@pytest.fixture
def count_limit(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set the lists' count limit (``ANJIAN_LIST_COUNT_LIMIT``) for the rest of the test."""
    from anjian.config import get_settings

    def set_limit(limit: int) -> None:
        monkeypatch.setenv("ANJIAN_LIST_COUNT_LIMIT", str(limit))
        get_settings.cache_clear()

    return set_limit


def test_a_total_past_the_count_limit_is_an_estimate_and_says_so(
    personas: Any, count_limit: Callable[[int], None]
) -> None:
    """The province sees both enterprises: past a limit of one it still gets them, with a
    total that is not exact; the county's single enterprise is counted exactly."""
    count_limit(1)
    sheng = personas.client.get("/api/v1/enterprises", headers=personas.login("sheng")).json()
    assert sheng["total_exact"] is False and sheng["total"] >= 2
    assert {e["id"] for e in sheng["items"]} == set(personas.enterprises.values())
    ying = personas.client.get("/api/v1/enterprises", headers=personas.login("yingxian")).json()
    assert ying == {**ying, "total": 1, "total_exact": True}
    # The audit log — the largest table of a node — pages the same way.
    log = personas.client.get(
        "/api/v1/audit", params={"limit": 2}, headers=personas.login("admin")
    ).json()
    assert log["total_exact"] is False and log["total"] >= 2 and len(log["items"]) == 2
    count_limit(10_000)
    exact = personas.client.get("/api/v1/enterprises", headers=personas.login("sheng")).json()
    assert exact["total"] == 2 and exact["total_exact"] is True


def test_the_count_is_exact_up_to_the_limit_and_estimated_past_it(personas: Any) -> None:
    """At the limit the count is still exact; one past it, PostgreSQL answers its planner's
    estimate (after ANALYZE, the table's own row count) and SQLite the limit plus one."""
    from anjian.core.audit.models import AuditRecord
    from anjian.core.paging import count_matches

    with personas.db() as s:
        rows = s.scalar(select(func.count()).select_from(AuditRecord))
        assert rows is not None and rows > 3
        at_limit = count_matches(s, select(AuditRecord), limit=rows)
        assert (at_limit, at_limit.exact) == (rows, True)
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("ANALYZE audit_records"))
        past = count_matches(s, select(AuditRecord).order_by(AuditRecord.seq), limit=3)
        assert past.exact is False
        if s.get_bind().dialect.name == "postgresql":
            assert past == rows
        else:
            assert past == 4
