"""Division reference data and API."""

from sqlalchemy import func, select

from anjian.core.divisions.models import Division
from anjian.core.divisions.service import load_reference


def test_reference_list_is_complete_and_rerunnable(node) -> None:
    with node.db() as s:
        counts = dict(s.execute(select(Division.tier, func.count()).group_by(Division.tier)).all())
        assert counts["province"] == 34
        assert counts["city"] > 330
        assert counts["county"] > 2900
        assert load_reference(s) == 0  # loading again adds nothing
        assert s.scalar(select(func.count()).select_from(Division)) == sum(counts.values())


def _admin_headers(node) -> dict[str, str]:
    from anjian.core.audit.service import SYSTEM
    from anjian.core.iam.models import Role
    from anjian.core.iam.service import create_user

    with node.db() as s:
        create_user(
            s,
            SYSTEM,
            username="ops",
            password="Anjian#2026",
            role=Role.ADMIN,
            division_code="140000",
        )
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
