"""The world of the enforcement case pages' tests: 应县 with more enterprises and four officers
registered with their certificates (through the API), and the console logged in as its
official."""

from __future__ import annotations

import re
from typing import Any

from enforcement_world import more_enterprises, officer

OFFICERS = {"yingxian": "应县执法一", "zf1": "应县执法二", "zf2": "应县执法三", "zf3": "应县执法四"}
CERTIFICATE = "1406222026{:02d}"  # certificate numbers: 140622202601 …


def build(console: Any, enterprises: int = 5) -> Any:
    """应县 with ``enterprises`` more enterprises and the four officers of :data:`OFFICERS`
    (yingxian and three new officials, each with a display name); the console logged in as
    yingxian and ``node.headers`` theirs for the API."""
    node = console.node
    node.extra = more_enterprises(node, enterprises)
    node.headers = node.login("yingxian")
    for username, display in OFFICERS.items():
        if username in node.users:
            _rename(node, username, display)
    node.officers = [
        officer(node, username, CERTIFICATE.format(n), display)
        for n, (username, display) in enumerate(OFFICERS.items(), start=1)
    ]
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
