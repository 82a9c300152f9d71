"""Fixtures of the real-node network tests: the backend of every node, networks that are always
torn down, and one chain network per backend that the tests which only add records of their own
share (starting four nodes costs more than most of those tests do)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import CHAIN_TOPOLOGY, COUNTY_A, PROVINCE, Network


def _backend(request: pytest.FixtureRequest) -> tuple[str, Any]:
    if request.param == "sqlite":
        return "sqlite", request.getfixturevalue("sqlite_template")
    return "postgres", request.getfixturevalue("pg_template")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """The backend of every node, with a migrated template to copy (conftest.py's fixtures:
    PostgreSQL is required in CI and skipped locally when unreachable)."""
    return _backend(request)


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


# --- the shared chain ----------------------------------------------------------------------------

# The users of every test on the shared chain (the nation and the city: an admin each).
CHAIN_USERS: dict[str, list[tuple[str, str]]] = {
    PROVINCE: [("admin", "admin"), ("official", "official"), ("zfsheng", "official")],
    COUNTY_A: [("admin", "admin"), ("official", "official")],
}


class SharedChains:
    """A :data:`CHAIN_TOPOLOGY` network per backend, started for the first test that asks for
    one and closed as soon as the next test to run does not use it (see
    :func:`pytest_runtest_teardown`): an idle network's forwarders poll five times a second."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.networks: dict[str, Network] = {}

    def get(self, kind: str, template: Any) -> Network:
        net = self.networks.get(kind)
        if net is not None:
            net.ensure_running()  # every link up and every node running, whatever came before
            return net
        net = Network(
            self.root / f"chain-{kind}-{len(list(self.root.iterdir()))}",
            kind,
            template=template,
            topology=CHAIN_TOPOLOGY,
            users=CHAIN_USERS,
        )
        try:
            net.start()
        except BaseException:
            net.close()
            raise
        self.networks[kind] = net
        return net

    def close(self, keep: str | None = None) -> None:
        for kind in [k for k in self.networks if k != keep]:
            self.networks.pop(kind).close()


_shared: SharedChains | None = None


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def chain_backend(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """The backend of the shared chain: session-scoped, so that pytest runs the tests on one
    backend's chain one after another (across modules) before those on the other's."""
    return _backend(request)


@pytest.fixture(scope="session")
def shared_chains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedChains]:
    global _shared
    _shared = SharedChains(tmp_path_factory.mktemp("chains"))
    try:
        yield _shared
    finally:
        _shared.close()
        _shared = None


@pytest.fixture
def chain(chain_backend: tuple[str, Any], shared_chains: SharedChains) -> Network:
    """The shared chain national → province → city → 应县 on the backend of this run (users:
    :data:`CHAIN_USERS`). A test on it adds records of its own and finds them by uid; it does
    not stop nodes or cut links, nor count what others may have added."""
    return shared_chains.get(*chain_backend)


def _chain_kind(item: pytest.Item | None) -> str | None:
    if item is None or "chain" not in getattr(item, "fixturenames", ()):
        return None
    callspec = getattr(item, "callspec", None)
    return str(callspec.params["chain_backend"]) if callspec is not None else None


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Close a shared chain once the next test (on this worker) does not use it."""
    if _shared is not None and _chain_kind(item) is not None:
        _shared.close(keep=_chain_kind(nextitem))
