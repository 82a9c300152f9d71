"""Fixtures of the enterprise tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def auth(personas: Any) -> Callable[[str], dict[str, str]]:
    """Log a persona in once per test; returns its Authorization header."""
    cache: dict[str, dict[str, str]] = {}

    def headers(name: str) -> dict[str, str]:
        if name not in cache:
            cache[name] = personas.login(name)
        return cache[name]

    return headers
