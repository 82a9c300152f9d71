"""Fixtures of the console tests: logging in through the login form like a browser does."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from httpx import Response

PASSWORD = "Anjian#2026"  # the personas' password (tests/conftest.py)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@dataclass
class Console:
    """The console of a node, driven through its forms with the node's TestClient."""

    node: Any  # tests/conftest.py Node

    def submit_login(
        self, username: str, password: str = PASSWORD, *, otp: str | None = None
    ) -> Response:
        """Load the login form (for its CSRF cookie) and post it; redirects not followed."""
        client = self.node.client
        data = {"username": username, "password": password, "next": "/"}
        data["csrf"] = csrf_of(client.get("/login").text)
        if otp is not None:
            data["otp"] = otp
        return client.post("/login", data=data, follow_redirects=False)

    def login(self, username: str) -> None:
        """Log ``username`` (no MFA) in on a fresh cookie jar."""
        self.node.client.cookies.clear()
        r = self.submit_login(username)
        assert r.status_code == 303, r.text
        assert r.headers["location"] == "/"

    def csrf(self, path: str = "/") -> str:
        """The session's CSRF token, read from a page."""
        return csrf_of(self.node.client.get(path).text)


@pytest.fixture
def console(personas: Any) -> Console:
    return Console(personas)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a browser test saves its screenshots: ``ANJIAN_E2E_ARTIFACTS`` (CI keeps them),
    else the test's temporary directory."""
    path = Path(os.environ.get("ANJIAN_E2E_ARTIFACTS") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path
