"""The MQTT ingest worker (MQTT 接入): subscribes to every enterprise's gateway topics and applies
each batch with :mod:`anjian.monitoring.ingest`.

Contract (QoS 1): ``anjian/v1/{uscc}/readings`` carries a reading batch, ``anjian/v1/{uscc}/status``
the state of the enterprise's whole monitoring system. On an external broker the worker joins a
shared subscription (``$share/<group>/…``), so several workers split the load; each keeps a
persistent session under its own client id. A message is acknowledged only after the
transaction that stored it has committed: a worker killed at any moment loses nothing (the
broker delivers again what was not acknowledged) and stores nothing twice (readings are keyed
by point and time). Inside a worker, each enterprise is pinned to one of its threads (lanes),
which keeps that enterprise's points in memory; workers sharing a subscription stay correct
when an enterprise's messages reach both, only slower (:mod:`anjian.monitoring.live`)."""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.exc import OperationalError

from anjian.config import Settings, get_settings
from anjian.core.errors import NotFound
from anjian.core.metrics import (
    INGEST_MESSAGES,
    INGEST_QUEUED,
    INGEST_READINGS,
    INGEST_REFUSED,
    INGEST_SECONDS,
)
from anjian.db import unit_of_work
from anjian.monitoring import sync as _sync  # noqa: F401  (the alarms it raises are synced)
from anjian.monitoring.gateways import local_enterprise_by_uscc
from anjian.monitoring.ingest import count_rejections, ingest_many, system_status
from anjian.monitoring.live import PointCache
from anjian.monitoring.schemas import Rejected

log = logging.getLogger("anjian.monitoring.mqtt")
TOPICS = ("anjian/v1/+/readings", "anjian/v1/+/status")
BATCH_MESSAGES = 200  # messages applied in one transaction at most
USCC_CACHE_S = 60.0


@dataclass(frozen=True)
class Broker:
    """Where to connect and as whom."""

    host: str
    port: int
    username: str | None
    password: str | None
    shared: bool  # an external broker: join the shared subscription group


def broker_of(settings: Settings) -> Broker:
    """The configured external broker (``ANJIAN_MQTT_URL``), or the node's embedded one."""
    if settings.mqtt_url:
        url = urlparse(settings.mqtt_url)
        if url.scheme not in ("mqtt", "tcp"):
            raise ValueError("ANJIAN_MQTT_URL must look like mqtt://[user:password@]host[:port]")
        return Broker(
            host=url.hostname or "127.0.0.1",
            port=url.port or 1883,
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            shared=True,
        )
    from anjian.monitoring.broker import INTERNAL_USER, internal_password

    # The embedded broker listens on ANJIAN_HOST; all interfaces include the loopback.
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    return Broker(host, settings.mqtt_embedded_port, INTERNAL_USER, internal_password(), False)


def uscc_of(topic: str) -> tuple[str, str] | None:
    """(USCC, "readings" | "status") of a gateway topic, or None for any other topic."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[:2] == ["anjian", "v1"] and parts[3] in ("readings", "status"):
        return parts[2], parts[3]
    return None


class _Enterprises:
    """USCC → enterprise id of this node, cached for a minute (unknown ones too)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, int | None]] = {}

    def get(self, uscc: str) -> int | None:
        hit = self._cache.get(uscc)
        if hit is not None and time.monotonic() - hit[0] < USCC_CACHE_S:
            return hit[1]
        try:
            with unit_of_work(read_only=True) as db:
                found: int | None = local_enterprise_by_uscc(db, uscc).id
        except NotFound:
            found = None
        self._cache[uscc] = (time.monotonic(), found)
        return found


def lane_of(uscc: str, lanes: int) -> int:
    """The lane (0 … lanes-1) of a worker an enterprise is pinned to: the same in every run."""
    return zlib.crc32(uscc.encode()) % lanes


class IngestWorker(threading.Thread):
    """Receives gateway messages and stores them, acknowledging each after its commit. Its
    ``lanes`` threads each apply the messages of the enterprises pinned to them
    (:func:`lane_of`), so that one lane alone holds an enterprise's points in memory
    (:mod:`anjian.monitoring.live`) while another waits for the database."""

    def __init__(self, broker: Broker, client_id: str, group: str, lanes: int = 1) -> None:
        super().__init__(name="anjian-mqtt-ingest", daemon=True)
        self.broker, self.client_id, self.group = broker, client_id, group
        self.connected = threading.Event()  # connected and subscribed
        self.stopping = threading.Event()
        self._generation = 0  # raised on every (re)connection: acks of an old one are void
        self._enterprises = _Enterprises()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            manual_ack=True,
        )
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.lanes = [_Lane(self, f"{client_id}/{j}") for j in range(lanes)]

    @property
    def messages(self) -> int:
        """Messages applied since start (for status pages and tests)."""
        return sum(lane.messages for lane in self.lanes)

    def _topics(self) -> list[tuple[str, int]]:
        prefix = f"$share/{self.group}/" if self.broker.shared else ""
        return [(prefix + topic, 1) for topic in TOPICS]

    def _on_connect(self, client, _userdata, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            log.warning("MQTT connection refused: %s", reason_code)
            return
        self._generation += 1
        # Messages queued under the last connection will come again: drop them here.
        for lane in self.lanes:
            lane.forget_queued()
        client.subscribe(self._topics())

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _props) -> None:  # type: ignore[no-untyped-def]
        if any(code.is_failure for code in reason_codes):
            log.error("MQTT subscription refused: %s", reason_codes)
            return
        self.connected.set()
        log.info(
            "MQTT ingest subscribed at %s:%d to %s",
            self.broker.host,
            self.broker.port,
            ", ".join(topic for topic, _qos in self._topics()),
        )

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        self.connected.clear()
        if not self.stopping.is_set():
            log.warning("MQTT ingest disconnected: %s", reason_code)

    def _on_message(self, _client, _userdata, msg: mqtt.MQTTMessage) -> None:  # type: ignore[no-untyped-def]
        where = uscc_of(msg.topic)
        lane = lane_of(where[0], len(self.lanes)) if where and len(self.lanes) > 1 else 0
        INGEST_QUEUED.inc()
        self.lanes[lane].inbox.put((self._generation, msg))

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self._client.loop_start()
        for lane in self.lanes:
            lane.start()
        try:
            self.stopping.wait()
        finally:
            for lane in self.lanes:
                lane.join()
            self._client.disconnect()
            self._client.loop_stop()

    def ack(self, batch: list[tuple[int, mqtt.MQTTMessage]]) -> None:
        """Acknowledge messages received on the current connection (the others come again)."""
        for generation, msg in batch:
            if generation == self._generation and msg.qos > 0:
                self._client.ack(msg.mid, msg.qos)

    def enterprise_of(self, topic: str) -> tuple[int | None, str | None]:
        """(enterprise id of this node or None, "readings" | "status" | None) of a topic."""
        where = uscc_of(topic)
        if where is None:
            return None, None
        return self._enterprises.get(where[0]), where[1]


class _Lane(threading.Thread):
    """One thread of a worker: applies its enterprises' messages in transactions, with the
    memory of their points (the cache) it keeps between them."""

    def __init__(self, worker: IngestWorker, name: str) -> None:
        super().__init__(name=f"anjian-ingest-{name}", daemon=True)
        self.worker = worker
        self.inbox: queue.Queue[tuple[int, mqtt.MQTTMessage]] = queue.Queue()
        self.cache = PointCache(owner=name)
        self.messages = 0

    def forget_queued(self) -> None:
        while not self.inbox.empty():
            self.inbox.get_nowait()

    def run(self) -> None:
        stopping = self.worker.stopping
        try:
            while not stopping.is_set():
                batch = self._take()
                if batch:
                    self._apply(batch)
                elif self.cache.waiting:
                    self._checkpoint()
        finally:
            self._checkpoint()

    def _take(self) -> list[tuple[int, mqtt.MQTTMessage]]:
        try:
            first = self.inbox.get(timeout=0.5)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < BATCH_MESSAGES:
            try:
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _ack(self, batch: list[tuple[int, mqtt.MQTTMessage]]) -> None:
        self.worker.ack(batch)
        self.messages += len(batch)
        INGEST_MESSAGES.inc(len(batch))

    def _commit(self, batch: list[tuple[int, mqtt.MQTTMessage]]) -> None:
        """Apply the messages in one transaction: all reading batches in one pass of
        :func:`ingest_many`, then the system status reports."""
        readings: list[tuple[int, bytes]] = []
        statuses: list[tuple[int, bytes]] = []
        for _, msg in batch:
            enterprise_id, kind = self.worker.enterprise_of(msg.topic)
            if enterprise_id is None:
                log.warning("MQTT message on %s for no enterprise of this node", msg.topic)
                continue
            (statuses if kind == "status" else readings).append((enterprise_id, msg.payload))
        started = time.perf_counter()
        outs = []
        try:
            with unit_of_work() as db:
                if readings:
                    outs = ingest_many(db, readings, cache=self.cache)
                for enterprise_id, payload in statuses:
                    system_status(db, enterprise_id, payload)
        except BaseException:
            self.cache.clear()  # it may hold what was rolled back
            raise
        self._ack(batch)
        INGEST_SECONDS.observe(time.perf_counter() - started)
        for out in outs:  # counted once committed
            INGEST_READINGS.labels(out.path).inc(out.accepted)
            for refused in out.rejected:
                INGEST_REFUSED.labels(refused.reason).inc()

    def _checkpoint(self) -> None:
        """Write the last readings the cache holds back (idle, or stopping)."""
        try:
            with unit_of_work() as db:
                self.cache.checkpoint(db)
        except Exception as exc:
            self.cache.clear()
            log.warning("ingest checkpoint failed: %r", exc)

    def _apply(self, batch: list[tuple[int, mqtt.MQTTMessage]]) -> None:
        """Apply a batch in one transaction. If that fails, each message is applied alone: a
        database that is down or busy is waited for (nothing is acknowledged meanwhile), and a
        message that cannot be applied at all is counted as refused and acknowledged, so that
        it does not stop the pipeline."""
        stopping = self.worker.stopping
        try:
            self._commit(batch)
            return
        except Exception as exc:
            log.info("batch of %d messages applied one by one: %r", len(batch), exc)
        for item in batch:
            while not stopping.is_set():
                try:
                    self._commit([item])
                    break
                except OperationalError as exc:
                    log.warning("ingest waits for the database: %s", exc.orig or exc)
                    stopping.wait(1.0)
                except Exception as exc:
                    self._give_up(item, exc)
                    break

    def _give_up(self, item: tuple[int, mqtt.MQTTMessage], exc: BaseException) -> None:
        msg = item[1]
        log.error("MQTT message on %s could not be applied: %r", msg.topic, exc)
        enterprise_id, _ = self.worker.enterprise_of(msg.topic)
        if enterprise_id is not None:
            try:
                with unit_of_work() as db:
                    count_rejections(
                        db,
                        enterprise_id,
                        [
                            Rejected(
                                index=None,
                                reason="error",
                                message=f"无法处理 (error): {exc!r}"[:300],
                            )
                        ],
                    )
            except Exception:
                log.exception("could not count the refused message")
        self._ack([item])


def start_ingest(settings: Settings | None = None) -> list[threading.Thread]:
    """The threads of MQTT ingest inside ``anjian serve``: the embedded broker when no
    external one is configured, and the ingest worker."""
    settings = settings or get_settings()
    threads: list[threading.Thread] = []
    if not settings.mqtt_url:
        from anjian.monitoring.broker import EmbeddedBroker

        embedded = EmbeddedBroker(settings.host, settings.mqtt_embedded_port)
        embedded.start()
        embedded.started.wait(10)
        if embedded.error is not None:
            raise RuntimeError(f"embedded MQTT broker failed to start: {embedded.error}")
        threads.append(embedded)
    client_id = settings.mqtt_client_id or f"anjian-ingest-{settings.effective_node_id}"
    worker = IngestWorker(broker_of(settings), client_id, settings.mqtt_shared_group)
    worker.start()
    threads.append(worker)
    return threads
