"""Simulated gateways (模拟网关) for demos and tests: realistic signals
(:mod:`anjian.monitoring.signals`) for the points of this node's enterprises, sent as gateways
send them, over MQTT or HTTP, at a chosen rate. The runner reads the points, builds one batch
per enterprise per tick and hands it to a sender (paho-mqtt with QoS 1, or httpx with the
enterprise's gateway token)."""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from anjian.core.scope import unscoped
from anjian.monitoring.signals import Excursions, PointSpec, point_sim

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from anjian.core.audit.service import Actor

log = logging.getLogger("anjian.monitoring.simulate")


# --- pacing -----------------------------------------------------------------------------------

MIN_PERIOD_S = 0.5  # a gateway sends at most two batches a second; more readings go in each
MAX_BATCH = 10_000  # readings in one batch, as ingest takes them


@dataclass(frozen=True)
class Pace:
    """How ``rate`` readings/s are spread: every gateway sends a batch each ``period_s``
    seconds holding ``per_batch`` readings of each of its points, ``spacing_ms`` apart."""

    period_s: float
    per_batch: int
    spacing_ms: int

    @property
    def interval_s(self) -> float:
        """Seconds between two readings of one point."""
        return self.spacing_ms / 1000.0


def pace(points: int, rate: float) -> Pace:
    """The pace for ``points`` points sending ``rate`` readings/s in all."""
    if points < 1 or rate <= 0:
        raise ValueError("points and rate must be positive")
    interval = points / rate
    if interval >= MIN_PERIOD_S:
        return Pace(interval, 1, max(1, round(interval * 1000)))
    per_batch = math.ceil(MIN_PERIOD_S / interval)
    spacing = max(1, round(interval * 1000))
    return Pace(per_batch * spacing / 1000.0, per_batch, spacing)


# --- the runner -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gateway:
    """An enterprise whose gateway is simulated: its USCC (the MQTT topic) and its points."""

    enterprise_id: int
    uscc: str
    name: str
    points: tuple[PointSpec, ...]


@unscoped("the simulator sends for this node's own enterprises")
def local_gateways(session: Session, limit: int | None = None) -> list[Gateway]:
    """This node's own enterprises with monitoring points (at most ``limit`` of them), by id."""
    from sqlalchemy import select

    from anjian.config import get_settings
    from anjian.enterprises.models import Enterprise
    from anjian.monitoring.models import MonitoringPoint

    node = get_settings().effective_node_id
    rows = session.execute(
        select(Enterprise.id, Enterprise.uscc, Enterprise.name, MonitoringPoint)
        .join(MonitoringPoint, MonitoringPoint.enterprise_id == Enterprise.id)
        .where(
            Enterprise.origin_node == node,
            Enterprise.deleted.is_(False),
            MonitoringPoint.deleted.is_(False),
        )
        .order_by(Enterprise.id, MonitoringPoint.code)
    ).all()
    grouped: dict[int, tuple[str, str, list[PointSpec]]] = {}
    for ent_id, uscc, name, p in rows:
        if ent_id not in grouped:
            if limit is not None and len(grouped) >= limit:
                break
            grouped[ent_id] = (uscc, name, [])
        grouped[ent_id][2].append(
            PointSpec(
                p.code,
                p.kind,
                p.ll,
                p.l,
                p.h,
                p.hh,
                p.range_low,
                p.range_high,
                p.preset,
                p.period_s,
            )
        )
    return [Gateway(i, u, n, tuple(ps)) for i, (u, n, ps) in grouped.items()]


class Sender(Protocol):
    """Delivers a gateway's batch: True when it was handed over."""

    def send(self, gateway: Gateway, batch: dict[str, Any]) -> bool: ...

    def close(self) -> None: ...


Notify = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def _settled(info: Any) -> bool:
    """Whether a publication is over: acknowledged by the broker, or failed for good."""
    try:
        return bool(info.is_published())
    except (RuntimeError, ValueError):
        return True


class MqttSender:
    """Publishes batches with QoS 1 to ``anjian/v1/{uscc}/readings``. Connects in the
    background and keeps retrying quietly until the broker is up (the embedded broker starts
    with the server); batches due while it is not connected are skipped, as a gateway without
    a buffer would lose them."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        *,
        client_id: str | None = None,
        notify: Notify = _quiet,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.host, self.port, self.notify = host, port, notify
        self.connected = threading.Event()
        self._refused = False
        self._closing = False
        self._pending: deque[Any] = deque()  # published, not yet acknowledged by the broker
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"anjian-simulate-{uuid.uuid4().hex[:8]}",
        )
        if username:
            self._client.username_pw_set(username, password)
        # Bounded: a slow broker makes publish() refuse rather than hold memory without end.
        self._client.max_inflight_messages_set(100)
        self._client.max_queued_messages_set(1000)
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.connect_async(host, port, keepalive=30)
        self._client.loop_start()  # retries the first connection too

    def _on_connect(self, _client, _userdata, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            if not self._refused:  # once: the loop keeps retrying every few seconds
                self.notify(
                    f"MQTT 服务器拒绝连接 (broker refused the connection): {reason_code}; "
                    "检查 ANJIAN_MQTT_URL 的用户名和密码或数据目录 (check the credentials)"
                )
            self._refused = True
            return
        self._refused = False
        self.connected.set()
        self.notify(f"已连接 MQTT {self.host}:{self.port} (connected)")

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        if self.connected.is_set() and not self._closing:
            self.notify(f"MQTT 连接断开，自动重连 (disconnected: {reason_code}; reconnecting)")
        self.connected.clear()

    def send(self, gateway: Gateway, batch: dict[str, Any]) -> bool:
        import json

        if not self.connected.is_set():
            return False
        info = self._client.publish(
            f"anjian/v1/{gateway.uscc}/readings", json.dumps(batch, separators=(",", ":")), qos=1
        )
        if info.rc != 0:
            return False
        self._pending.append(info)
        while self._pending and _settled(self._pending[0]):
            self._pending.popleft()
        return True

    def flush(self, timeout: float = 5.0) -> None:
        """Wait (up to ``timeout``) until the broker has acknowledged what was published."""
        deadline = time.monotonic() + timeout
        while self._pending and self.connected.is_set():
            if _settled(self._pending[0]):
                self._pending.popleft()
            elif time.monotonic() > deadline:
                return
            else:
                time.sleep(0.02)

    def close(self) -> None:
        self.flush()
        self._closing = True
        self._client.disconnect()
        self._client.loop_stop()


class HttpSender:
    """POSTs batches to ``/api/v1/monitoring/readings`` with each enterprise's gateway token.
    While the server cannot be reached, batches are skipped and it is tried again a second
    later, quietly."""

    def __init__(
        self, base_url: str, tokens: dict[str, str], *, client: Any = None, notify: Notify = _quiet
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.notify = notify
        self.rejected = 0  # readings the server refused (bad data counters)
        self._client = client or httpx.Client(timeout=10.0)
        self._own_client = client is None
        self._down_until = 0.0
        self._was_down = False
        self._said_401 = False

    def send(self, gateway: Gateway, batch: dict[str, Any]) -> bool:
        import httpx

        if time.monotonic() < self._down_until:
            return False
        try:
            r = self._client.post(
                f"{self.base_url}/api/v1/monitoring/readings",
                json=batch,
                headers={"Authorization": f"Bearer {self.tokens[gateway.uscc]}"},
            )
        except httpx.TransportError as exc:
            if not self._was_down:
                self.notify(f"等待服务 {self.base_url} (waiting for the server): {exc}")
            self._was_down = True
            self._down_until = time.monotonic() + 1.0
            return False
        if self._was_down:
            self.notify(f"已连接 {self.base_url} (connected)")
            self._was_down = False
        if r.status_code == 401:
            if not self._said_401:
                self.notify(
                    "接入凭证被拒绝：服务可能使用另一个数据库 (gateway token refused: is the "
                    "server using another database?)"
                )
                self._said_401 = True
            return False
        if r.status_code in (200, 422):
            self.rejected += len(r.json().get("rejected", []))
        return r.status_code == 200

    def close(self) -> None:
        if self._own_client:
            self._client.close()


@dataclass
class Stats:
    """What a run sent."""

    batches: int = 0
    readings: int = 0
    skipped: int = 0  # batches not delivered (no connection, refused)
    late: int = 0  # ticks missed because sending fell behind


class Simulator:
    """Sends every gateway's batch once per tick, the gateways spread evenly over the tick,
    so that ``rate`` readings/s arrive in all."""

    def __init__(
        self,
        gateways: Sequence[Gateway],
        sender: Sender,
        *,
        rate: float,
        seed: int = 2026,
        notify: Notify = _quiet,
        dropouts: bool = True,
        opening: int = 0,
    ) -> None:
        """``opening``: how many gas or methane points (with set points) surely make an
        excursion past them within the first minute — the demo's, so that alarms arrive while
        someone is watching rather than when chance has it."""
        points = sum(len(g.points) for g in gateways)
        if not gateways or points == 0:
            raise ValueError("nothing to simulate: no gateways with points")
        self.gateways = list(gateways)
        self.pace = pace(points, rate)
        largest = max(len(g.points) for g in self.gateways)
        if self.pace.per_batch * largest > MAX_BATCH:
            raise ValueError(
                f"rate too high: {self.pace.per_batch * largest} readings in one batch "
                f"(at most {MAX_BATCH})"
            )
        self.sender = sender
        self.notify = notify
        self.points = points
        self.stats = Stats()
        self.stop_event = threading.Event()
        self._sims = [
            [point_sim(p, seed, g.uscc, dropouts=dropouts) for p in g.points] for g in self.gateways
        ]
        self._last_ts = [0] * len(self.gateways)
        gases = [
            sim.signal
            for sims in self._sims
            for sim in sims
            if isinstance(sim.signal, Excursions) and sim.signal.h is not None
        ]
        for k, signal in enumerate(gases[:opening]):
            signal.opening_s = 5.0 + 10.0 * k  # crossing by about 20, 30, 40 … s

    def batch(self, index: int, now_ms: int) -> dict[str, Any]:
        """Gateway ``index``'s batch at ``now_ms``: each point's readings since the last one."""
        k, spacing = self.pace.per_batch, self.pace.spacing_ms
        times = [now_ms - (k - 1 - j) * spacing for j in range(k)]
        # Never go back in time (a slow send may bring ticks closer than the spacing).
        times = [t for t in times if t > self._last_ts[index]]
        if times:
            self._last_ts[index] = times[-1]
        readings = []
        for t in times:
            for sim in self._sims[index]:
                r = sim.reading(t)
                if r is not None:
                    readings.append(r)
        return {"ts": now_ms, "readings": readings}

    def stop(self) -> None:
        self.stop_event.set()

    def _say_sent(self, s: Stats) -> None:
        self.notify(
            f"已发送 {s.readings} 条读数 / {s.batches} 批 (sent {s.readings} readings "
            f"in {s.batches} batches; skipped {s.skipped})"
        )

    def run(
        self,
        seconds: float | None = None,
        *,
        report_every_s: float = 0.0,
        report: Callable[[Stats], None] | None = None,
    ) -> Stats:
        """Send until ``seconds`` have passed (or :meth:`stop`); the totals sent. Every
        ``report_every_s`` the totals so far go to ``report`` (default: a line to notify)."""
        report = report or self._say_sent
        start = time.monotonic()
        end = start + seconds if seconds is not None else math.inf
        period = self.pace.period_s
        n = len(self.gateways)
        due = [(start + i * period / n, i) for i in range(n)]
        heapq.heapify(due)
        next_report = start + report_every_s if report_every_s > 0 else math.inf
        while not self.stop_event.is_set():
            at, i = due[0]
            now = time.monotonic()
            if now >= end:
                break
            if now >= next_report:
                report(self.stats)
                next_report = now + report_every_s
            if at > now:
                self.stop_event.wait(min(at - now, end - now, next_report - now, 0.5))
                continue
            heapq.heappop(due)
            batch = self.batch(i, int(time.time() * 1000))
            if batch["readings"]:
                if self.sender.send(self.gateways[i], batch):
                    self.stats.batches += 1
                    self.stats.readings += len(batch["readings"])
                else:
                    self.stats.skipped += 1
            following = at + period
            if following < time.monotonic() - period:  # fell behind: skip, do not burst
                self.stats.late += 1
                following = time.monotonic() + period
            heapq.heappush(due, (following, i))
        return self.stats


# --- wiring: credentials and senders ----------------------------------------------------------


def mqtt_sender(notify: Notify = _quiet, client_id: str | None = None) -> MqttSender:
    """A sender to the node's broker: the external one of ``ANJIAN_MQTT_URL`` with the URL's
    credentials, or the embedded one as the node itself (its internal user)."""
    from anjian.config import get_settings
    from anjian.monitoring.mqtt import broker_of

    broker = broker_of(get_settings())
    return MqttSender(
        broker.host,
        broker.port,
        broker.username,
        broker.password,
        client_id=client_id,
        notify=notify,
    )


@unscoped("the demo counts what this node raised")
def alarms_raised_since(session: Session, since: datetime) -> int:
    """How many alarms this node's database raised since ``since`` (the demo's minute line)."""
    from sqlalchemy import func, select

    from anjian.monitoring.models import Alarm

    return session.scalar(select(func.count()).where(Alarm.raised_at >= since)) or 0


def issue_tokens(session: Session, actor: Actor, gateways: Sequence[Gateway]) -> dict[str, str]:
    """Fresh gateway tokens for the simulated enterprises (audited as ``actor``). An earlier
    token of these enterprises stops working: simulate only where no real gateway sends."""
    from anjian.monitoring.gateways import issue_token

    return {g.uscc: issue_token(session, actor, g.uscc).token for g in gateways}


def default_url() -> str:
    """This node's own HTTP address from its settings."""
    from anjian.config import get_settings

    settings = get_settings()
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"
