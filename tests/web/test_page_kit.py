"""The page kit's small helpers: the pager's numbers and the read-only check of synced records."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from anjian.config import get_settings
from anjian.core.paging import Total
from anjian.web.layout import maintained_elsewhere, pager_of
from anjian.web.render import count


def test_pager_counts_whole_pages_and_at_least_one() -> None:
    assert pager_of(0, 1, 20) == {"total": 0, "page_no": 1, "pages": 1}
    assert pager_of(20, 1, 20)["pages"] == 1
    assert pager_of(21, 2, 20) == {"total": 21, "page_no": 2, "pages": 2}


def test_a_record_of_another_node_is_maintained_there() -> None:
    here = get_settings().effective_node_id
    assert maintained_elsewhere(SimpleNamespace(origin_node="n-other")) == "n-other"
    assert maintained_elsewhere(SimpleNamespace(origin_node=here)) == ""
    assert maintained_elsewhere(SimpleNamespace(origin_node=None)) == ""


def test_a_list_past_the_count_limit_shows_its_total_as_an_estimate(
    console: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``ANJIAN_LIST_COUNT_LIMIT`` a list's footer says 约 before the total and the number
    of pages; within it the count stands alone."""
    monkeypatch.setenv("ANJIAN_LIST_COUNT_LIMIT", "1")
    get_settings.cache_clear()
    console.login("sheng")
    province = console.node.client.get("/enterprises").text
    assert re.search(r"共 <strong>约 \d+</strong> 条，第 1 / 约 1 页", province), province[-3000:]
    assert "应县金鼎煤业有限公司" in province and "山阴县晋北化工" in province
    console.login("yingxian")
    county = console.node.client.get("/enterprises").text
    assert "共 <strong>1</strong> 条，第 1 / 1 页" in county


def test_a_total_reads_as_a_number_or_an_estimate() -> None:
    assert (count(Total(12)), count(Total(10_001, exact=False)), count(7)) == (
        "12",
        "约 10001",
        "7",
    )
