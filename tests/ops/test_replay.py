"""A request the database fails during a failover is sent through again by the node
(:mod:`anjian.core.replay`) when nothing of it can have been committed, and never when its
COMMIT may have landed. The node reaches PostgreSQL through a TCP proxy of the test's own,
which the test cuts as a failover would: refusing new connections for a while, or dropping a
connection right after a COMMIT went through it, before the answer comes back."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from node_env import reset_caches

API = "/api/v1/ops/tickets"
# PostgreSQL only: the proxy stands where a failover happens, between the node and its server
pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


class Proxy:
    """A TCP relay to ``target``. ``down()`` drops every connection and turns new ones away
    until ``up()``; ``cut_after_commit()`` drops the next connection that commits a new ticket
    the moment its COMMIT has been passed on (the server commits; the client never hears)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.cut = threading.Event()
        self.cuts = 0
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._muted: set[socket.socket] = set()  # servers whose answers are no longer passed on
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()  # the primary is gone: the connection fails at once
                continue
            server = socket.create_connection(self.target)
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        inserted = False  # this connection has sent an INSERT of a ticket since the arming
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if not upstream and src in self._muted:
                    continue
                inserted = inserted or (self.cut.is_set() and b"INSERT INTO ops_tickets" in data)
                cutting = upstream and inserted and b"COMMIT" in data
                if cutting:
                    self.cut.clear()
                    self._muted.add(dst)
                dst.sendall(data)
                if cutting:
                    self.cuts += 1
                    time.sleep(0.3)  # the server commits and answers; the answer is lost
                    self._close(src, dst)
                    return
        self._close(src, dst)

    @staticmethod
    def _close(*socks: socket.socket) -> None:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def down(self) -> None:
        self.open = False
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            self._close(*pair)

    def up(self) -> None:
        self.open = True

    def cut_after_commit(self) -> None:
        self.cut.set()

    def close(self) -> None:
        self.down()
        self.listener.close()


@dataclass
class Proxied:
    node: Any
    proxy: Proxy
    headers: dict[str, str]  # sheng's (the province official)


@pytest.fixture
def proxied(personas: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Proxied]:
    """The personas' node (PostgreSQL) reconnected through a :class:`Proxy`, replaying for 8 s;
    the province official logged in."""
    url = make_url(personas.url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    monkeypatch.setenv(
        "ANJIAN_DATABASE_URL",
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
    )
    monkeypatch.setenv("ANJIAN_DB_RETRY_SECONDS", "8")
    reset_caches()
    from anjian.app import create_app

    try:
        with TestClient(create_app(), base_url="https://testserver") as client:
            personas.client = client
            yield Proxied(personas, proxy, personas.login("sheng"))
    finally:
        proxy.close()
        reset_caches()


def _tickets(node: Any, title: str) -> int:
    from anjian.ops.desk.models import Ticket

    with node.db() as s:
        return int(s.scalar(select(func.count()).where(Ticket.title == title)) or 0)


def _replays(outcome: str) -> float:
    from anjian.core.metrics import REGISTRY

    return REGISTRY.get_sample_value("anjian_http_replays_total", {"outcome": outcome}) or 0.0


def _open(node: Any, headers: dict[str, str], title: str) -> Any:
    body = {"category": "platform", "division_code": "140622", "title": title}
    return node.client.post(API, json=body, headers=headers)


def test_a_write_during_a_failover_is_answered_once_the_database_is_back(
    proxied: Proxied,
) -> None:
    node, proxy, headers = proxied.node, proxied.proxy, proxied.headers
    assert _open(node, headers, "before").status_code == 201
    answered = _replays("answered")
    proxy.down()
    threading.Timer(2.0, proxy.up).start()  # the standby takes over two seconds later
    sent = time.monotonic()
    r = _open(node, headers, "during the failover")
    assert r.status_code == 201, r.text  # not a 503: the node sent it again itself
    assert time.monotonic() - sent >= 1.5
    assert _tickets(node, "during the failover") == 1
    ticket = r.json()["id"]
    assert node.client.get(f"{API}/{ticket}", headers=headers).status_code == 200
    opened = node.audits("ticket.open", object_id=str(ticket))
    assert len(opened) == 1  # the write and its audit record once, not once per attempt
    assert _replays("answered") == answered + 1  # the node's own metrics count the replay


def test_a_write_whose_commit_may_have_landed_is_not_sent_again(
    proxied: Proxied,
) -> None:
    node, proxy, headers = proxied.node, proxied.proxy, proxied.headers
    proxy.cut_after_commit()
    r = _open(node, headers, "commit in doubt")
    assert proxy.cuts == 1
    # the COMMIT reached the server and the answer was lost: the outcome is unknown to the
    # node, so the client is told to look before it sends it again, and nothing is doubled
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "1"
    assert _tickets(node, "commit in doubt") == 1


def test_a_database_gone_for_longer_than_the_window_gets_a_503(proxied: Proxied) -> None:
    node, proxy, headers = proxied.node, proxied.proxy, proxied.headers
    given_up = _replays("given_up")
    proxy.down()
    sent = time.monotonic()
    r = _open(node, headers, "never")
    waited = time.monotonic() - sent
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert 8 <= waited < 20  # the window (8 s here), then the 503; the request did not hang
    proxy.up()
    assert _tickets(node, "never") == 0
    assert _replays("given_up") == given_up + 1


def test_a_body_sent_without_a_length_is_given_again_on_the_replay(
    proxied: Proxied,
) -> None:
    node, proxy, headers = proxied.node, proxied.proxy, proxied.headers
    body = b'{"category": "platform", "division_code": "140622", "title": "chunked"}'
    proxy.down()
    threading.Timer(1.5, proxy.up).start()
    # chunked: the node keeps what the endpoint read and hands it over again
    r = node.client.post(
        API,
        content=iter([body[:20], body[20:]]),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "chunked" and _tickets(node, "chunked") == 1


def test_a_body_too_large_to_keep_gets_the_503_at_once(proxied: Proxied) -> None:
    node, proxy, headers = proxied.node, proxied.proxy, proxied.headers
    proxy.down()
    sent = time.monotonic()
    # a 2 MB upload, read whole before the database is asked: not kept, so not sent again
    r = node.client.post(
        "/api/v1/enterprises/import",
        files={"file": ("企业.xlsx", b"\0" * (2 * 1024 * 1024))},
        headers=headers,
    )
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert time.monotonic() - sent < 5  # not held for the window (8 s)
    proxy.up()


def test_a_client_that_leaves_stops_the_replays(proxied: Proxied) -> None:
    import json

    import uvicorn

    from anjian.app import create_app

    node, proxy, headers = proxied.node, proxied.proxy, proxied.headers
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    try:
        while not server.started:
            time.sleep(0.05)
        proxy.down()
        body = json.dumps({"category": "platform", "division_code": "140622", "title": "left"})
        head = (
            f"POST {API} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: {headers['Authorization']}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(head.encode() + body.encode())
            time.sleep(1.0)  # the client gives up and hangs up while the node replays
        proxy.up()
        time.sleep(3.0)  # past the next attempts: a replay would have committed by now
        assert _tickets(node, "left") == 0
    finally:
        server.should_exit = True
        serving.join(10)
