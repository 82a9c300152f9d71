"""The world of the enforcement case pages' tests: 应县 with more enterprises and four officers
registered with their certificates (through the API), and the console logged in as its
official."""

from __future__ import annotations

import re
from typing import Any

API = "/api/v1/enforcement"
COUNTY = "140622"
OFFICERS = {"yingxian": "应县执法一", "zf1": "应县执法二", "zf2": "应县执法三", "zf3": "应县执法四"}
CERTIFICATE = "1406222026{:02d}"  # certificate numbers: 140622202601 …


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


def build(console: Any, enterprises: int = 5) -> Any:
    """应县 with ``enterprises`` more enterprises and the four officers of :data:`OFFICERS`
    (yingxian and three new officials, each with a display name); the console logged in as
    yingxian and ``node.headers`` theirs for the API."""
    node = console.node
    node.extra = more_enterprises(node, enterprises)
    node.headers = node.login("yingxian")
    node.officers = []
    for n, (username, display) in enumerate(OFFICERS.items(), start=1):
        if username not in node.users:
            node.add_user(username, "official", COUNTY, display_name=display)
        else:
            _rename(node, username, display)
        r = node.client.post(
            f"{API}/inspectors",
            headers=node.headers,
            json={"user_id": node.users[username], "certificate_no": CERTIFICATE.format(n)},
        )
        assert r.status_code == 201, r.text
        node.officers.append(r.json()["id"])
    console.login("yingxian")
    return node


def _rename(node: Any, username: str, display: str) -> None:
    from anjian.core.iam.models import User

    with node.db() as s:
        s.get(User, node.users[username]).display_name = display


def post_form(console: Any, path: str, data: dict[str, Any], page: str | None = None) -> Any:
    """Post a console form with the session's CSRF token (read from ``page``, default
    ``path``); redirects not followed."""
    token = console.csrf(page or path)
    return console.node.client.post(path, data={"csrf": token, **data}, follow_redirects=False)


def redirected_id(response: Any, prefix: str) -> int:
    """The record id of a 303 to ``prefix``/<id>."""
    assert response.status_code == 303, response.text
    match = re.match(rf"{re.escape(prefix)}/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))
