"""GB/T 2260 code rules, by the table."""

import pytest

from anjian.core.divisions.rules import (
    MUNICIPALITIES,
    NATIONAL,
    Tier,
    agencies_over,
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


# --- the agencies over a place (Order No. 493 Art. 9–10: "the level above") -------------------


def _packaged() -> set[str]:
    from anjian.core.divisions.service import read_reference

    return {d.code for d in read_reference()}


@pytest.mark.parametrize(
    ("place", "agencies"),
    [
        ("140622", ["140622", "140600", "140000", "000000"]),  # 应县: county, city, province
        ("429004", ["429004", "420000", "000000"]),  # 仙桃: administered by the province
        ("469001", ["469001", "460000", "000000"]),  # 五指山 (海南, province-administered)
        ("110105", ["110105", "110000", "000000"]),  # a district of 北京: to the municipality
        ("500229", ["500229", "500000", "000000"]),  # a county of 重庆 (code 5002xx)
        ("110100", ["110000", "000000"]),  # 北京 given by its prefecture-level code
        ("441900", ["441900", "440000", "000000"]),  # 东莞: a city without districts
        ("442000", ["442000", "440000", "000000"]),  # 中山
        ("620200", ["620200", "620000", "000000"]),  # 嘉峪关
        ("460400", ["460400", "460000", "000000"]),  # 儋州
        ("140600", ["140600", "140000", "000000"]),  # a place given as a city
        ("140000", ["140000", "000000"]),  # … or as a province
        ("000000", ["000000"]),
    ],
)
def test_the_agencies_over_a_place(place: str, agencies: list[str]) -> None:
    assert agencies_over(place, _packaged()) == agencies


def test_every_packaged_division_has_a_chain_of_real_distinct_agencies() -> None:
    codes = _packaged()
    order = [Tier.COUNTY, Tier.CITY, Tier.PROVINCE, Tier.NATIONAL]
    for code in codes:
        chain = agencies_over(code, codes)
        assert chain[-1] == NATIONAL, code
        assert all(c in codes for c in chain), code  # every agency exists
        ranks = [order.index(tier_of(c)) for c in chain]
        assert ranks == sorted(set(ranks)), code  # strictly up: nobody reports to itself
        assert all(covers(c, code) for c in chain), code  # each stands over the place
        assert not any(tier_of(c) is Tier.CITY and c[:2] in MUNICIPALITIES for c in chain)
        if not (tier_of(code) is Tier.CITY and code[:2] in MUNICIPALITIES):
            assert chain[0] == code, code  # the place's own agency reports first
