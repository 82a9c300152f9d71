"""GB/T 2260 code rules, by the table."""

import pytest

from anjian.core.divisions.rules import (
    Tier,
    covers,
    is_valid_code,
    parent_candidates,
    prefix_of,
    prefix_upper_bound,
    tier_of,
)


@pytest.mark.parametrize(
    ("code", "tier", "prefix"),
    [
        ("000000", Tier.NATIONAL, ""),
        ("140000", Tier.PROVINCE, "14"),
        ("140600", Tier.CITY, "1406"),
        ("140622", Tier.COUNTY, "140622"),
        ("110101", Tier.COUNTY, "110101"),  # 东城区, under the municipality's 110100
        ("429004", Tier.COUNTY, "429004"),  # 仙桃市, administered directly by 湖北省
    ],
)
def test_tier_and_prefix(code: str, tier: Tier, prefix: str) -> None:
    assert tier_of(code) is tier
    assert prefix_of(code) == prefix


@pytest.mark.parametrize("code", ["14062", "1406222", "14062a", "001234", ""])
def test_invalid_codes(code: str) -> None:
    assert not is_valid_code(code)


def test_parent_candidates_nearest_first() -> None:
    assert parent_candidates("140622") == ["140600", "140000", "000000"]
    assert parent_candidates("140600") == ["140000", "000000"]
    assert parent_candidates("140000") == ["000000"]
    assert parent_candidates("000000") == []


def test_covers_is_jurisdiction_containment() -> None:
    assert covers("000000", "140622")
    assert covers("140000", "140622")
    assert covers("140600", "140622")
    assert covers("140622", "140622")
    assert not covers("140622", "140621")
    assert not covers("140600", "140100")
    assert not covers("140000", "150000")


@pytest.mark.parametrize("prefix", ["14", "1406", "140622", "1409", "19"])
def test_prefix_upper_bound_brackets_exactly_the_prefix(prefix: str) -> None:
    upper = prefix_upper_bound(prefix)
    inside = prefix + "9" * (6 - len(prefix))
    outside_above = str(int(prefix) + 1).zfill(len(prefix)) + "0" * (6 - len(prefix))
    assert prefix <= inside < upper
    assert not (prefix <= outside_above < upper)
