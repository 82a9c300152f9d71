"""Set-up the enforcement tests share (the API's, the pages' and the sync tests'): officers
registered through the API, more enterprises in 应县, and an inspection of the 应县 mine planned
for the officers."""

from __future__ import annotations

from typing import Any

API = "/api/v1/enforcement"
COUNTY = "140622"


def officer(node: Any, username: str, cert: str, display_name: str | None = None) -> int:
    """Register ``username`` (made an official of 应县 named ``display_name`` when new) as an
    officer with the certificate ``cert``, as ``node.headers``; returns the officer's id."""
    if username not in node.users:
        node.add_user(
            username, "official", COUNTY, display_name=display_name or f"执法员{username}"
        )
    r = node.client.post(
        f"{API}/inspectors",
        headers=node.headers,
        json={"user_id": node.users[username], "certificate_no": cert},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def more_enterprises(node: Any, n: int) -> list[int]:
    """``n`` more enterprises in 应县 (the personas' mine is the first), as the system."""
    from anjian.core.audit.service import SYSTEM
    from anjian.core.scope import Scope
    from anjian.enterprises.rules import compose_uscc
    from anjian.enterprises.schemas import EnterpriseCreate
    from anjian.enterprises.service import create_enterprise

    everything = Scope.for_division(None, "admin", ["000000"])
    with node.db() as s:
        return [
            create_enterprise(
                s,
                SYSTEM,
                everything,
                EnterpriseCreate(
                    uscc=compose_uscc(COUNTY, f"MA1D{i:04d}"),
                    name=f"应县第{i + 1}工贸有限公司",
                    division_code=COUNTY,
                    supervision_category="metallurgy_trade",
                    industry_code="C33",
                    scale="small",
                ),
            ).id
            for i in range(n)
        ]


def plan_inspection(node: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    """Plan an inspection of the 应县 mine (by ``node.officers`` unless ``team`` is given)."""
    body = {
        "enterprise_id": node.enterprises["ying_mine"],
        "team": getattr(node, "officers", [])[:2],
        "planned_on": "2026-12-08",
        **body,
    }
    return node.client.post(f"{API}/inspections", headers=headers or node.headers, json=body)


def finished_inspection(node: Any, finding: dict[str, Any] | None = None, **body: Any) -> int:
    """An inspection of the 应县 mine by yingxian and zf1 (registered as officers here), started,
    with ``finding`` recorded when given, finished; returns its id."""
    node.officers = [officer(node, "yingxian", "C1"), officer(node, "zf1", "C2")]
    iid = int(plan_inspection(node, **body).json()["id"])
    steps = [("start", None), ("findings", finding), ("finish", {"summary": "检查结束"})]
    for step, payload in steps:
        if step != "findings" or payload is not None:
            r = node.client.post(
                f"{API}/inspections/{iid}/{step}", headers=node.headers, json=payload
            )
            assert r.status_code in (200, 201), r.text
    return iid
