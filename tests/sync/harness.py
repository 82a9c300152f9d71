"""A network of real nodes on localhost, for the sync integration tests and ``bench/sync.py``.

Every node is an ``anjian serve`` process with its own data directory and database (a SQLite
file, or a PostgreSQL database the harness creates and drops), set up with the commands an
operator runs: ``anjian node link CHILD`` on the parent prints the link key, ``anjian node init
--division D --parent URL --link-key KEY`` on the child, ``anjian user add … --password-stdin``
(the same commands run in the harness's own process, in each node's environment, to spare the
Python start-up of a process per command: a dozen seconds of a network's set-up). Each child
reaches its parent through a :class:`LinkProxy`, a TCP forwarder the test can cut and restore to
simulate a partition of that one link. Nodes can be stopped, killed (SIGKILL) and restarted on
the same port. Everything listens on 127.0.0.1 only; every wait is bounded.

The databases are in :mod:`harness_db`, the link proxy in :mod:`harness_proxy`.

Use it as a context manager so that no process, proxy or database outlives the test::

    with Network(tmp_path, "sqlite") as net:
        net.start()
        county = net.node("140622")
        county.api().call("POST", "/api/v1/enterprises", json={...})
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from harness_db import Databases
from harness_proxy import HOST, LinkProxy

from node_env import in_process

PASSWORD = "Anjian#2026"
ANJIAN = str(Path(sys.executable).parent / "anjian")

NATIONAL, PROVINCE, CITY = "000000", "140000", "140600"
COUNTY_A, COUNTY_B = "140622", "140621"  # 应县, 山阴县 — both in 朔州市 (140600)
# (division, parent division): parents first.
FULL_TOPOLOGY: tuple[tuple[str, str | None], ...] = (
    (NATIONAL, None),
    (PROVINCE, NATIONAL),
    (CITY, PROVINCE),
    (COUNTY_A, CITY),
    (COUNTY_B, CITY),
)
CHAIN_TOPOLOGY: tuple[tuple[str, str | None], ...] = (
    (NATIONAL, None),
    (PROVINCE, NATIONAL),
    (CITY, PROVINCE),
    (COUNTY_A, CITY),
)

# Who can log in where (each user costs a password hash at set-up, so only those needed).
DEFAULT_USERS: list[tuple[str, str]] = [("admin", "admin")]
USERS: dict[str, list[tuple[str, str]]] = {
    division: [("admin", "admin"), ("official", "official")]
    for division in (PROVINCE, COUNTY_A, COUNTY_B)
}

T = TypeVar("T")


class HarnessError(RuntimeError):
    """A node did not start, a command failed, or a wait ran out of time."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_until(
    predicate: Callable[[], T], *, timeout: float, interval: float = 0.2, what: str = "condition"
) -> T:
    """Poll ``predicate`` until it returns something truthy; HarnessError after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # a node restarting, a connection reset: try again
            last_exc = exc
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout:.0f}s waiting for {what}") from last_exc
        time.sleep(interval)


# --- the HTTP API of a node --------------------------------------------------------------------


class Api:
    """A logged-in user of one node's API. Logs in lazily and again after a 401 (sessions are
    lost when a database is restored from a backup)."""

    def __init__(self, base_url: str, username: str, password: str = PASSWORD, timeout: float = 10):
        self.base_url, self.username, self.password = base_url, username, password
        self._client = httpx.Client(base_url=base_url, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self._client.close()

    def login(self) -> None:
        r = self._client.post(
            "/api/v1/auth/login", json={"username": self.username, "password": self.password}
        )
        if r.status_code != 200:
            raise HarnessError(f"login {self.username}@{self.base_url}: {r.status_code} {r.text}")
        self._token = r.json()["access_token"]

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One request (transport errors propagate); logs in again once on a 401."""
        for attempt in range(2):
            if self._token is None:
                self.login()
            r = self._client.request(
                method,
                path,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {self._token}"},
            )
            if r.status_code == 401 and attempt == 0:
                self._token = None
                continue
            return r
        return r

    def call_until(
        self,
        method: str,
        path: str,
        *,
        ok: Iterable[int] = (200, 201),
        timeout: float = 60,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Retry through transport errors, 5xx and restarts until an answer in ``ok``, or
        another 4xx (returned), or HarnessError after ``timeout``."""
        ok = tuple(ok)
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                r = self.call(method, path, json=json, params=params)
            except (httpx.TransportError, HarnessError) as exc:
                last = repr(exc)
            else:
                if r.status_code in ok or (400 <= r.status_code < 500 and r.status_code != 401):
                    return r
                last = f"{r.status_code} {r.text[:300]}"
            time.sleep(0.2)
        raise HarnessError(f"{method} {self.base_url}{path} failed for {timeout:.0f}s: {last}")

    def find(self, path: str, uid: str, **params: Any) -> dict[str, Any] | None:
        """The record ``uid`` as listed at ``path`` (one page, with ``params``); None until
        it has arrived."""
        r = self.call("GET", path, params=params or None)
        assert r.status_code == 200, r.text
        return next((item for item in r.json()["items"] if item["uid"] == uid), None)

    def find_detail(self, path: str, uid: str) -> dict[str, Any] | None:
        """The record ``uid`` listed at ``path``, read in full from ``path``/<id>; None until
        it has arrived."""
        found = self.find(path, uid)
        if found is None:
            return None
        detail: dict[str, Any] = self.call("GET", f"{path}/{found['id']}").json()
        return detail

    def all_enterprises(self, **filters: Any) -> list[dict[str, Any]]:
        """Every enterprise the user sees (all pages)."""
        out: list[dict[str, Any]] = []
        offset = 0
        for _ in range(10_000):
            r = self.call(
                "GET", "/api/v1/enterprises", params={**filters, "limit": 500, "offset": offset}
            )
            if r.status_code != 200:
                raise HarnessError(f"list enterprises: {r.status_code} {r.text[:300]}")
            page = r.json()
            out.extend(page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                break
        return out


# --- nodes -------------------------------------------------------------------------------------


@dataclass
class Node:
    """One ``anjian serve`` process with its own data directory and database."""

    division: str
    data_dir: Path
    database_url: str
    port: int
    interval: float
    parent: Node | None = None
    proxy: LinkProxy | None = None  # this node's link to its parent
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    _apis: dict[str, Api] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "serve.log"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANJIAN_")}
        env.update(
            {
                "ANJIAN_DATA_DIR": str(self.data_dir),
                "ANJIAN_DATABASE_URL": self.database_url,
                "ANJIAN_NODE_DIVISION": self.division,
                "ANJIAN_MFA_REQUIRED_ROLES": "[]",
                "ANJIAN_SYNC_INTERVAL_S": str(self.interval),
                "ANJIAN_SYNC_FORWARDER": "true",
                "ANJIAN_MQTT_INGEST": "false",  # the network tests send readings over HTTP
                "ANJIAN_HOST": HOST,
                "ANJIAN_PORT": str(self.port),
                "PYTHONUNBUFFERED": "1",
                "COLUMNS": "200",  # `anjian node status` tables in failure reports
                **self.extra_env,
            }
        )
        return env

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        """Run ``anjian ARGS`` in this node's environment; its stdout, or HarnessError."""
        try:
            result = subprocess.run(
                [ANJIAN, *args],
                env=self.env(),
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=self.data_dir,
            )
        except subprocess.TimeoutExpired as exc:
            raise HarnessError(f"anjian {' '.join(args)} ({self.division}) timed out") from exc
        if result.returncode != 0:
            raise HarnessError(
                f"anjian {' '.join(args)} ({self.division}) exit {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def command(self, *args: str, stdin: str | None = None) -> str:
        """Run ``anjian ARGS`` as :meth:`cli` does, but in this process (the same command,
        through Typer's test runner, in this node's environment and directory): for setting a
        node up before it serves. Its stdout, or HarnessError. Not thread-safe (it swaps the
        process's ``ANJIAN_*`` environment)."""
        from typer.testing import CliRunner

        from anjian.cli import app

        with in_process(self.env()), contextlib.chdir(self.data_dir):
            result = CliRunner().invoke(app, list(args), input=stdin)
        if result.exit_code != 0:
            raise HarnessError(
                f"anjian {' '.join(args)} ({self.division}) exit {result.exit_code}:\n"
                f"{result.output}\n{result.exception!r}"
            )
        return result.stdout

    def add_user(self, username: str, role: str, division: str | None = None) -> None:
        self.command(
            "user",
            "add",
            username,
            "--role",
            role,
            "--division",
            division or self.division,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )

    def link_child(self, child_division: str) -> str:
        """`anjian node link CHILD` on this (parent) node; the key it prints."""
        out = self.command("node", "link", child_division)
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        if not lines or len(lines[-1]) < 32:
            raise HarnessError(f"no link key in the output of node link:\n{out}")
        return lines[-1]

    def start(self, wait: bool = True, timeout: float = 60) -> None:
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== start {self.starts + 1} at {time.time():.3f} ===\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [ANJIAN, "serve", "--host", HOST, "--port", str(self.port)],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
            )
        self.starts += 1
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is None or self.proc.poll() is not None:
                raise HarnessError(
                    f"node {self.division} exited during start-up:\n{self.log_tail()}"
                )
            try:
                r = httpx.get(f"{self.url}/healthz", timeout=2)
                if r.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                raise HarnessError(f"node {self.division} not ready in {timeout:.0f}s")
            time.sleep(0.1)

    def stop(self, timeout: float = 20) -> None:
        """A graceful stop (SIGTERM), SIGKILL when it does not stop in time."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit of what is in flight."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.kills += 1
        self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, *, kill: bool = False, timeout: float = 60) -> None:
        self.kill() if kill else self.stop()
        self.start(timeout=timeout)

    def api(self, username: str = "admin") -> Api:
        """A cached logged-in client of this node (one per username)."""
        if username not in self._apis:
            self._apis[username] = Api(self.url, username)
        return self._apis[username]

    def close_apis(self) -> None:
        for api in self._apis.values():
            api.close()
        self._apis.clear()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # Direct reads of the node's database, for checks that the API does not expose.
    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql), params)]
        finally:
            engine.dispose()


class Network:
    """Nodes in a tree (parents first in ``topology``), each child linked to its parent through
    its own :class:`LinkProxy`. Users (``users``, by division; default :data:`USERS`): ``admin``
    (role admin) on every node, ``official`` (role official) where directives are issued or
    signed; all of the node's division, password :data:`PASSWORD`."""

    def __init__(
        self,
        root: Path,
        backend: str,
        *,
        topology: Iterable[tuple[str, str | None]] = FULL_TOPOLOGY,
        interval: float = 0.2,
        template: str | Path | None = None,
        extra_env: dict[str, str] | None = None,
        users: dict[str, list[tuple[str, str]]] | None = None,
    ) -> None:
        self.root, self.backend = Path(root), backend
        self.users = users if users is not None else dict(USERS)
        self.topology = list(topology)
        self.interval = interval
        self.extra_env = dict(extra_env or {})
        self.dbs = Databases(backend, self.root, template)
        self.nodes: dict[str, Node] = {}
        self.proxies: dict[str, LinkProxy] = {}  # by child division

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def node(self, division: str) -> Node:
        return self.nodes[division]

    def _parallel(self, fn: Callable[[T], Any], items: Iterable[T]) -> None:
        items = list(items)
        with ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
            for future in [pool.submit(fn, item) for item in items]:
                future.result()

    def start(self, timeout: float = 90) -> None:
        """Create the databases, link every child to its parent, add the users and start all
        the nodes; returns when every node answers its health check."""
        self.root.mkdir(parents=True, exist_ok=True)
        for division, parent in self.topology:
            url = self.dbs.create(f"n{division}")
            node = Node(
                division,
                self.root / f"node-{division}",
                url,
                free_port(),
                self.interval,
                extra_env=dict(self.extra_env),
            )
            node.data_dir.mkdir(parents=True, exist_ok=True)
            if parent is not None:
                node.parent = self.nodes[parent]
            self.nodes[division] = node
        for node in self.nodes.values():
            if node.parent is not None:
                node.proxy = LinkProxy(node.parent.port, name=f"{node.division}->up")
                self.proxies[node.division] = node.proxy

        # Each parent issues its children's keys (a parent may link before its own init); one
        # command after another, in this process (see Node.command).
        keys = {
            child.division: child.parent.link_child(child.division)
            for child in self.nodes.values()
            if child.parent is not None
        }
        for node in self.nodes.values():
            args = ["node", "init", "--division", node.division]
            if node.parent is not None:
                assert node.proxy is not None
                args += ["--parent", f"http://{HOST}:{node.proxy.port}"]
                args += ["--link-key", keys[node.division]]
            node.command(*args)
            for username, role in self.users.get(node.division, DEFAULT_USERS):
                node.add_user(username, role)
        self._parallel(lambda n: n.start(wait=False), self.nodes.values())
        self._parallel(lambda n: n.wait_ready(timeout), self.nodes.values())

    def ensure_running(self, timeout: float = 60) -> None:
        """Every link restored and every node up (after chaos)."""
        for proxy in self.proxies.values():
            proxy.restore()
        self._parallel(lambda n: n.start(timeout=timeout), self.nodes.values())

    def close(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL), close the proxies, drop the databases."""
        errors: list[str] = []
        for node in reversed(list(self.nodes.values())):
            node.close_apis()
            try:
                node.stop(timeout=10)
            except Exception as exc:
                errors.append(f"{node.division}: {exc}")
                if node.proc is not None:
                    node.proc.kill()
        for proxy in self.proxies.values():
            proxy.close()
        self.dbs.close()
        if errors:
            print("harness: " + "; ".join(errors), file=sys.stderr)

    def status(self, division: str) -> str:
        """`anjian node status` of one node (for failure reports)."""
        try:
            return self.nodes[division].cli("node", "status", timeout=60)
        except HarnessError as exc:
            return str(exc)

    def report(self) -> str:
        """Node statuses and log tails, to attach to a failure."""
        parts = []
        for division, node in self.nodes.items():
            parts.append(f"--- node {division} (running={node.running}) ---")
            parts.append(self.status(division))
            parts.append(node.log_tail(15))
        return "\n".join(parts)


def console_network(
    root: Path,
    template: Path,
    topology: Iterable[tuple[str, str | None]],
    users: dict[str, list[tuple[str, str]]],
) -> Network:
    """A SQLite network (from ``template``) whose consoles a browser signs in to over plain
    http on localhost, so without the Secure flag on the session cookie."""
    return Network(
        root,
        "sqlite",
        template=template,
        topology=topology,
        users=users,
        extra_env={"ANJIAN_COOKIE_SECURE": "false"},
    )


def chain_apis(net: Network) -> tuple[Api, Api, Api, Api, Api]:
    """Clients of a :data:`CHAIN_TOPOLOGY` network's nodes, closed with it: the county's admin
    and official, the province's official, the city's and the nation's admin."""
    county = net.node(COUNTY_A)
    return (
        county.api("admin"),
        county.api("official"),
        net.node(PROVINCE).api("official"),
        net.node(CITY).api("admin"),
        net.node(NATIONAL).api("admin"),
    )
