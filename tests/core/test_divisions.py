"""Division reference data and API."""

import pytest
from sqlalchemy import func, select

from anjian.core.divisions.models import Division
from anjian.core.divisions.service import children_with_zeros, load_reference
from anjian.core.scope import Scope


def test_reference_list_is_complete_and_rerunnable(node) -> None:
    with node.db() as s:
        counts = dict(s.execute(select(Division.tier, func.count()).group_by(Division.tier)).all())
        assert counts["province"] == 34
        assert counts["city"] > 330
        assert counts["county"] > 2900
        assert load_reference(s) == 0  # loading again adds nothing
        assert s.scalar(select(func.count()).select_from(Division)) == sum(counts.values())


def _admin_headers(node) -> dict[str, str]:
    node.add_user("ops", "admin", "140000")
    return node.login("ops")


def test_division_api_returns_tier_parent_children(node) -> None:
    headers = _admin_headers(node)
    r = node.client.get("/api/v1/divisions/140600", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "朔州市"
    assert body["tier"] == "city"
    assert body["parent"]["code"] == "140000"
    assert [a["code"] for a in body["ancestors"]] == ["000000", "140000"]
    children = {c["code"]: c["name"] for c in body["children"]}
    assert children["140622"] == "应县"
    assert all(c["tier"] == "county" for c in body["children"])

    county = node.client.get("/api/v1/divisions/429004", headers=headers).json()
    assert county["parent"]["code"] == "420000"  # a county with no prefecture above it
    assert county["lng"] and county["lat"]


def test_unknown_division_is_404_and_malformed_422(node) -> None:
    headers = _admin_headers(node)
    r = node.client.get("/api/v1/divisions/149999", headers=headers)
    assert r.status_code == 404
    assert "149999" in r.json()["detail"]
    r = node.client.get("/api/v1/divisions/14x", headers=headers)
    assert r.status_code == 422
    assert r.json()["field"] == "code"


def test_divisions_need_login(node) -> None:
    assert node.client.get("/api/v1/divisions/140000").status_code == 401


# --- breakdowns by the divisions one tier below (every child listed, zeros included) -----------


@pytest.mark.parametrize(
    ("prefixes", "code", "overlaps"),
    [
        (["140622"], "140622", True),  # itself
        (["140622"], "140600", True),  # its city holds it
        (["140622"], "140000", True),
        (["140622"], "000000", True),
        (["140622"], "140621", False),  # a sibling county
        (["140622"], "140200", False),  # another city
        (["140600"], "140623", True),  # a county of the city
        (["140600"], "140700", False),
        (["140621", "140622"], "140600", True),  # an inspection area of two counties
        (["140621", "140622"], "140623", False),
        (["000000"], "650000", True),
    ],
)
def test_scope_overlaps(prefixes: list[str], code: str, overlaps: bool) -> None:
    assert Scope.for_division(None, "official", prefixes).overlaps(code) is overlaps


def test_an_enterprise_scope_overlaps_no_division() -> None:
    assert not Scope.for_enterprise(None, 1).overlaps("140622")


SHUOZHOU_COUNTIES = ("140602", "140603", "140621", "140622", "140623", "140681")


def test_children_with_zeros_lists_every_child_with_its_name(node) -> None:
    with node.db() as s:
        city = children_with_zeros(s, "140600")
        assert city.codes == SHUOZHOU_COUNTIES
        assert city.name("140623") == "右玉县" and city.name("140600") == "朔州市"
        # no records at all: every child is still a row
        assert [code for code, _ in city.rows(s, [])] == list(SHUOZHOU_COUNTIES)
        assert city.child_of("140622") == "140622"
        province = children_with_zeros(s, "140000")
        assert len(province.codes) == 11 and "140200" in province.codes
        assert province.name("140200") == "大同市"
        assert province.child_of("140622") == "140600"
        # a code the table lacks is its own row, named by its code
        assert province.child_of("149901") == "149900"
        assert ("149900", "149900") in province.rows(s, ["149900"])
        # a county: itself
        county = children_with_zeros(s, "140622")
        assert county.codes == ("140622",) and county.child_of("140622") == "140622"
        assert county.rows(s, []) == [("140622", "应县")]


def test_a_county_under_its_province_is_its_own_row(node) -> None:
    with node.db() as s:
        hubei = children_with_zeros(s, "420000")
        assert "429004" in hubei.codes and hubei.name("429004") == "仙桃市"
        assert hubei.child_of("429004") == "429004"  # not a "429000" that does not exist
        assert hubei.child_of("420102") == "420100"


def test_children_with_zeros_keeps_to_the_scope(node) -> None:
    area = Scope.for_division(None, "official", ["140621", "140622"])
    with node.db() as s:
        assert children_with_zeros(s, "000000", area.overlaps).codes == ("140000",)
        assert children_with_zeros(s, "140600", area.overlaps).codes == ("140621", "140622")
        assert children_with_zeros(s, "140600", Scope.for_enterprise(None, 1).overlaps).codes == ()
