"""The page kit's small helpers: the pager's numbers and the read-only check of synced records."""

from __future__ import annotations

from types import SimpleNamespace

from anjian.config import get_settings
from anjian.web.layout import maintained_elsewhere, pager_of


def test_pager_counts_whole_pages_and_at_least_one() -> None:
    assert pager_of(0, 1, 20) == {"total": 0, "page_no": 1, "pages": 1}
    assert pager_of(20, 1, 20)["pages"] == 1
    assert pager_of(21, 2, 20) == {"total": 21, "page_no": 2, "pages": 2}


def test_a_record_of_another_node_is_maintained_there() -> None:
    here = get_settings().effective_node_id
    assert maintained_elsewhere(SimpleNamespace(origin_node="n-other")) == "n-other"
    assert maintained_elsewhere(SimpleNamespace(origin_node=here)) == ""
    assert maintained_elsewhere(SimpleNamespace(origin_node=None)) == ""
