"""Fixtures of the real-node network tests: the backend of every node and networks that are
always torn down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness import Network


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """The backend of every node, with a migrated template to copy (conftest.py's fixtures:
    PostgreSQL is required in CI and skipped locally when unreachable)."""
    if request.param == "sqlite":
        return "sqlite", request.getfixturevalue("sqlite_template")
    return "postgres", request.getfixturevalue("pg_template")


@pytest.fixture
def make_network(backend: tuple[str, Any], tmp_path: Path):
    """Builds networks that are always torn down: no process, proxy or database left over."""
    built: list[Network] = []

    def make(**kwargs: Any) -> Network:
        kind, template = backend
        net = Network(tmp_path / f"net{len(built)}", kind, template=template, **kwargs)
        built.append(net)
        return net

    yield make
    for net in built:
        net.close()
