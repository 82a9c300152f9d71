"""The embedded MQTT broker (amqtt) of a node with no external broker configured, so that the
one-command run takes gateway data with nothing installed. Production and CI use Mosquitto.

Gateways log in with their enterprise's USCC and token and may publish only under their own
``anjian/v1/{uscc}/``; the node's ingest worker logs in with an internal secret kept in the data
directory and may subscribe to everything."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session as MqttSession

from anjian.config import get_settings
from anjian.db import unit_of_work
from anjian.monitoring.gateways import check_gateway

log = logging.getLogger("anjian.monitoring.broker")
INTERNAL_USER = "anjian-node"


def internal_password() -> str:
    """The secret the node's own MQTT clients (ingest worker, simulator) log in with."""
    return get_settings().key_file("mqtt-internal").hex()


def port_taken(host: str, port: int) -> bool:
    """Whether ``host:port`` cannot be listened on: another process holds it (a Mosquitto on
    1883, say), where the embedded broker would fail to start."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio listens
        try:
            probe.bind(address)
        except OSError:
            return True
    return False


def free_port(host: str) -> int:
    """A port on ``host`` nobody listens on now (the system's choice)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.bind(address)
        return int(probe.getsockname()[1])


def embedded_port_for_demo(host: str, port: int) -> int:
    """The port the demo's embedded broker listens on: the configured one, or a free one when
    something else already listens there, so that the demo's simulated gateways never publish
    into a foreign broker that happens to hold the port."""
    return free_port(host) if port_taken(host, port) else port


def _topic_matches(pattern: str, topic: str) -> bool:
    p, t = pattern.split("/"), topic.split("/")
    for i, part in enumerate(p):
        if part == "#":
            return True
        if i >= len(t) or (part != "+" and part != t[i]):
            return False
    return len(p) == len(t)


class GatewayAuth(BaseAuthPlugin):
    """Accepts the node itself and gateways whose USCC and token match (checked against the
    database through :mod:`anjian.monitoring.gateways`)."""

    @dataclass
    class Config:
        pass

    async def authenticate(self, *, session: MqttSession) -> bool | None:
        username, password = session.username or "", session.password or ""
        if username == INTERNAL_USER:
            return password == internal_password()
        if not username or not password:
            return False

        def check() -> bool:
            with unit_of_work(read_only=True) as db:
                return check_gateway(db, username, password) is not None

        return await asyncio.to_thread(check)


class GatewayTopics(BaseTopicPlugin):
    """A gateway publishes only to its own enterprise's topics and subscribes to nothing."""

    @dataclass
    class Config:
        pass

    async def topic_filtering(
        self,
        *,
        session: MqttSession | None = None,
        topic: str | None = None,
        action: Action | None = None,
    ) -> bool | None:
        if session is None or topic is None:
            return False
        if session.username == INTERNAL_USER:
            return True
        if action == Action.PUBLISH:
            return _topic_matches(f"anjian/v1/{session.username}/+", topic)
        return False


class EmbeddedBroker(threading.Thread):
    """Runs the amqtt broker in its own event loop for the life of the server."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(name="anjian-mqtt-broker", daemon=True)
        self.host, self.port = host, port
        self.started = threading.Event()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shutdown: asyncio.Event | None = None

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                f"{__name__}.GatewayAuth": {},
                f"{__name__}.GatewayTopics": {},
            },
        }

    async def _main(self) -> None:
        self._shutdown = asyncio.Event()
        broker = Broker(self._config())
        await broker.start()
        log.info("embedded MQTT broker listening on %s:%d", self.host, self.port)
        self.started.set()
        await self._shutdown.wait()
        await broker.shutdown()

    def run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to whoever waits on ``started``
            self.error = exc
            log.exception("embedded MQTT broker failed")
            self.started.set()
        finally:
            self._loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._shutdown is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._shutdown.set)
