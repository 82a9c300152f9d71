"""Simulated gateways (模拟网关) for demos and tests: realistic signals for the points of this
node's enterprises, sent as gateways send them, over MQTT or HTTP, at a chosen rate.

Two halves. The signal generators are pure (no I/O, no clock): each is fed timestamps in
increasing order and answers a value, deterministically for a given seed — tanks filling and
emptying between their limits, temperatures and pressures following the day, gas near zero with
rare excursions that sometimes cross H or HH, coal-mine methane near working faces with
occasional rises, and sensors dropping out (silence, or an ``offline``/``fault`` status for a
while). The runner reads the points, builds one batch per enterprise per tick and hands it to a
sender (paho-mqtt with QoS 1, or httpx with the enterprise's gateway token)."""

from __future__ import annotations

import heapq
import logging
import math
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from anjian.core.audit.service import Actor

log = logging.getLogger("anjian.monitoring.simulate")

DAY_S = 86_400.0
BEIJING_OFFSET_S = 8 * 3600.0  # daily cycles follow Beijing time (UTC+8)


# --- signal generators (pure) -----------------------------------------------------------------


class Signal(Protocol):
    """A measured quantity: ``at(t)`` is its value at ``t`` (epoch seconds), called with
    increasing ``t``."""

    def at(self, t: float) -> float: ...


def _ou_step(x: float, dt: float, tau: float, sd: float, rng: random.Random) -> float:
    """One step of an Ornstein-Uhlenbeck process (mean 0, stationary deviation ``sd``, memory
    ``tau`` seconds): noise that drifts smoothly instead of jumping at every sample."""
    if dt <= 0 or sd <= 0:
        return x
    decay = math.exp(-dt / tau)
    return x * decay + sd * math.sqrt(1.0 - decay * decay) * rng.gauss(0.0, 1.0)


@dataclass
class Wander:
    """A quantity that drifts slowly around ``mean`` (oxygen, wind speed, a pond's level)."""

    mean: float
    sd: float
    rng: random.Random
    tau: float = 600.0
    floor: float | None = None
    _x: float = 0.0
    _t: float | None = None

    def at(self, t: float) -> float:
        if self._t is None:
            self._x = self.rng.gauss(0.0, self.sd)
        else:
            self._x = _ou_step(self._x, t - self._t, self.tau, self.sd, self.rng)
        self._t = t
        value = self.mean + self._x
        return value if self.floor is None else max(self.floor, value)


@dataclass
class Daily:
    """A quantity following the day (温度, a storage tank's vapour pressure): ``mean`` plus a
    cosine of ``amplitude`` peaking at ``peak_hour`` Beijing time, plus drifting noise."""

    mean: float
    amplitude: float
    noise: float
    rng: random.Random
    peak_hour: float = 15.0
    tau: float = 300.0
    _x: float = 0.0
    _t: float | None = None

    def at(self, t: float) -> float:
        if self._t is None:
            self._x = self.rng.gauss(0.0, self.noise)
        else:
            self._x = _ou_step(self._x, t - self._t, self.tau, self.noise, self.rng)
        self._t = t
        hour = ((t + BEIJING_OFFSET_S) % DAY_S) / 3600.0
        cycle = self.amplitude * math.cos(2 * math.pi * (hour - self.peak_hour) / 24)
        return self.mean + cycle + self._x


@dataclass
class TankLevel:
    """A tank being filled and emptied (储罐收发料) between ``low`` and ``high``: it fills in
    about ``fill_s`` seconds, may stand for a while, empties in about ``empty_s`` and so on,
    turning at a point drawn near each limit. The value never leaves [low, high]."""

    low: float
    high: float
    rng: random.Random
    fill_s: float = 1800.0
    empty_s: float = 2400.0
    hold_s: float = 300.0  # longest stand between a fill and an emptying
    noise: float = 0.05  # gauge noise (surface ripple), in the level's unit
    _level: float | None = None
    _direction: int = 1  # +1 filling, -1 emptying, 0 standing
    _target: float = 0.0
    _hold_until: float = 0.0
    _next_direction: int = -1
    _t: float | None = None

    def _turn_point(self, direction: int) -> float:
        span = self.high - self.low
        if direction > 0:
            return self.high - self.rng.uniform(0.0, 0.15) * span
        return self.low + self.rng.uniform(0.0, 0.15) * span

    def at(self, t: float) -> float:
        span = self.high - self.low
        if self._level is None or self._t is None:
            self._level = self.rng.uniform(self.low + 0.2 * span, self.high - 0.2 * span)
            self._direction = self.rng.choice((1, -1))
            self._target = self._turn_point(self._direction)
        else:
            dt = max(0.0, t - self._t)
            self._advance(t, dt)
        self._t = t
        value = self._level + self.rng.gauss(0.0, self.noise)
        return min(self.high, max(self.low, value))

    def _advance(self, t: float, dt: float) -> None:
        assert self._level is not None
        span = self.high - self.low
        if self._direction == 0:
            if t < self._hold_until:
                return
            self._direction = self._next_direction
            self._target = self._turn_point(self._direction)
        rate = span / (self.fill_s if self._direction > 0 else self.empty_s)
        self._level += self._direction * rate * dt
        reached = (
            self._level >= self._target if self._direction > 0 else self._level <= self._target
        )
        if reached:
            self._level = self._target
            self._next_direction = -self._direction
            self._direction = 0
            self._hold_until = t + self.rng.uniform(0.0, self.hold_s)


@dataclass
class Excursions:
    """A concentration near ``base`` (gas near zero, methane near a working face) with rare
    excursions (泄漏, 割煤时瓦斯涌出): they arrive ``per_hour`` times an hour on average, rise
    over tens of seconds to a peak, hold, then decay. A peak is drawn below ``h``, between
    ``h`` and ``hh`` or above ``hh`` with the weights ``odds`` (without set points, around a
    multiple of ``scale``)."""

    base: float
    base_sd: float
    per_hour: float
    rng: random.Random
    h: float | None = None
    hh: float | None = None
    scale: float = 1.0
    odds: tuple[float, float, float] = (0.65, 0.27, 0.08)
    floor: float = 0.0
    # seconds after the first reading at which one excursion past the set points starts for
    # sure (the demo's opening, so that alarms come in its first minute); None: only chance
    opening_s: float | None = None
    _noise: float = 0.0
    _t: float | None = None
    # (start, rise_s, hold_s, decay_tau, height above base) of the excursions under way
    _events: list[tuple[float, float, float, float, float]] = field(default_factory=list)

    def _peak(self, band: int | None = None) -> float:
        h = self.h if self.h is not None else self.scale
        hh = self.hh if self.hh is not None and self.hh > h else h * 1.5
        if band is None:
            band = self.rng.choices((0, 1, 2), self.odds)[0]
        if band == 0:
            return self.rng.uniform(0.3, 0.9) * h
        if band == 1:
            return self.rng.uniform(h * 1.02, max(h * 1.03, hh * 0.98))
        return self.rng.uniform(hh * 1.02, hh * 1.4)

    def _height(self, t: float, event: tuple[float, float, float, float, float]) -> float:
        start, rise, hold, tau, height = event
        age = t - start
        if age < rise:
            return height * age / rise
        if age < rise + hold:
            return height
        return height * math.exp(-(age - rise - hold) / tau)

    def at(self, t: float) -> float:
        if self._t is None:
            self._noise = self.rng.gauss(0.0, self.base_sd)
            if self.opening_s is not None:  # past H (二级), or past HH (一级) one time in three
                height = self._peak(self.rng.choice((1, 1, 2))) - self.base
                rise, hold = self.rng.uniform(8.0, 15.0), self.rng.uniform(30.0, 60.0)
                self._events.append((t + self.opening_s, rise, hold, 60.0, height))
        else:
            dt = max(0.0, t - self._t)
            self._noise = _ou_step(self._noise, dt, 120.0, self.base_sd, self.rng)
            if self.rng.random() < 1.0 - math.exp(-self.per_hour * dt / 3600.0):
                height = self._peak() - self.base
                if height > 0:
                    self._events.append(
                        (
                            t,
                            self.rng.uniform(10.0, 60.0),
                            self.rng.uniform(5.0, 90.0),
                            self.rng.uniform(30.0, 120.0),
                            height,
                        )
                    )
        self._t = t
        extra = 0.0
        alive = []
        for event in self._events:
            height = self._height(t, event)
            extra += height
            start, rise, hold, _tau, top = event
            if t - start < rise + hold or height > 0.01 * top:  # over once decayed away
                alive.append(event)
        self._events = alive
        return max(self.floor, self.base + self._noise + extra)


@dataclass
class Creep:
    """A slow monotonic drift with noise (坝体位移): ``start`` growing ``per_day``."""

    start: float
    per_day: float
    noise: float
    rng: random.Random
    _t0: float | None = None

    def at(self, t: float) -> float:
        if self._t0 is None:
            self._t0 = t
        return self.start + self.per_day * (t - self._t0) / DAY_S + self.rng.gauss(0, self.noise)


# What a point reports while it is out (掉线): nothing at all, or a status.
SILENT, OFFLINE, FAULT = "silent", "offline", "fault"


@dataclass
class Dropouts:
    """When a sensor drops out: ``per_hour`` times an hour on average, for ``min_s`` to
    ``max_s`` seconds, either silent (no readings), reporting ``offline`` or reporting a
    ``fault`` (with a frozen value), with the weights ``odds``."""

    rng: random.Random
    per_hour: float = 0.05
    min_s: float = 60.0
    max_s: float = 360.0
    odds: tuple[float, float, float] = (0.5, 0.3, 0.2)
    _until: float = 0.0
    _mode: str | None = None
    _t: float | None = None

    def at(self, t: float) -> str | None:
        """None while the sensor works, else how it is out."""
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        if self._mode is not None and t >= self._until:
            self._mode = None
        if self._mode is None and self.rng.random() < 1.0 - math.exp(-self.per_hour * dt / 3600):
            self._mode = self.rng.choices((SILENT, OFFLINE, FAULT), self.odds)[0]
            self._until = t + self.rng.uniform(self.min_s, self.max_s)
        return self._mode


@dataclass(frozen=True)
class PointSpec:
    """What the simulator needs to know of a point: its code, what it measures, its range and
    set points, and its preset."""

    code: str
    kind: str
    ll: float | None = None
    l: float | None = None  # noqa: E741 — the industry's own name for the low set point
    h: float | None = None
    hh: float | None = None
    range_low: float | None = None
    range_high: float | None = None
    preset: str = ""
    period_s: int = 60  # the sampling period the server expects (silent 3 periods: offline)


# Methane base as a share of the alarm concentration, by where the sensor sits: higher at the
# upper corner and the faces, low in intake airways.
_CH4_BASE = {
    "coal_ch4_t0_upper_corner": 0.45,
    "coal_ch4_t1_face": 0.35,
    "coal_ch4_t1_face_outburst": 0.35,
    "coal_ch4_shearer": 0.35,
    "coal_ch4_heading_face": 0.3,
    "coal_ch4_t3_face_intake": 0.12,
    "coal_ch4_t4_series_intake": 0.12,
    "coal_ch4_t7_drainage_roadway": 0.5,
}
_DECIMALS = {"ch4": 2, "pressure": 3, "tank_level": 2, "o2": 2, "wind_speed": 2}


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)


def _band(p: PointSpec) -> tuple[float, float]:
    """The normal band of a point: between its low and high set points (or its range)."""
    low = _first(p.l, p.ll, p.range_low)
    high = _first(p.h, p.hh, p.range_high)
    if low is None and high is None:
        return 0.0, 100.0
    if high is None:
        assert low is not None
        return low, low * 2 if low > 0 else low + 10
    if low is None:
        return (0.0, high) if high > 0 else (high - 10, high)
    return low, high


def signal_for(p: PointSpec, rng: random.Random) -> Signal:
    """A generator fitting what ``p`` measures, scaled to its set points and range."""
    low, high = _band(p)
    span = high - low
    if p.kind == "tank_level":
        margin = 0.06 * span
        return TankLevel(low + margin, high - margin, rng, noise=0.002 * span)
    if p.kind == "temperature":
        top = _first(p.h, p.hh, p.range_high)
        mean = top - 18.0 if top is not None else 18.0
        return Daily(mean, 5.0, 0.3, rng, peak_hour=15.0)
    if p.kind == "pressure":
        top = _first(p.h, p.hh, p.range_high) or 1.0
        return Daily(0.7 * top, 0.04 * top, 0.005 * top, rng, peak_hour=16.0)
    if p.kind in ("combustible_gas", "toxic_gas", "co"):
        scale = _first(p.h, p.hh, p.range_high) or 10.0
        return Excursions(0.01 * scale, 0.008 * scale, 0.3, rng, h=p.h, hh=p.hh, scale=scale)
    if p.kind == "ch4":
        alarm = _first(p.h, p.hh) or 1.0
        base = _CH4_BASE.get(p.preset, 0.3) * alarm
        return Excursions(
            base, 0.06 * base, 0.5, rng, h=p.h, hh=p.hh, scale=alarm, odds=(0.85, 0.12, 0.03)
        )
    if p.kind == "rainfall":
        return Excursions(0.0, 0.0, 0.02, rng, h=p.h, hh=p.hh, scale=high or 50.0)
    if p.kind == "displacement":
        top = high or 50.0
        return Creep(0.2 * top, 0.005 * top, 0.01 * top, rng)
    if p.kind == "o2":
        return Wander(20.8, 0.05, rng)
    # wind speed, flow, pond level, dry beach, phreatic line, …: drift in the middle of the band
    return Wander(low + 0.5 * span, 0.06 * span, rng, floor=0.0 if low >= 0 else None)


@dataclass
class PointSim:
    """A simulated sensor: a signal, its dropouts and how it is written in a batch."""

    code: str
    signal: Signal
    dropouts: Dropouts
    decimals: int = 1
    _last: float | None = None

    def reading(self, ts_ms: int) -> dict[str, Any] | None:
        """The reading at ``ts_ms`` as a gateway sends it, or None when the sensor is silent."""
        t = ts_ms / 1000.0
        value = round(self.signal.at(t), self.decimals)  # the process goes on while it is out
        mode = self.dropouts.at(t)
        if mode == SILENT:
            return None
        if mode == OFFLINE:
            return {"point": self.code, "ts": ts_ms, "status": OFFLINE}
        if mode == FAULT:
            stuck = self._last if self._last is not None else value
            return {"point": self.code, "ts": ts_ms, "value": stuck, "status": FAULT}
        self._last = value
        return {"point": self.code, "ts": ts_ms, "value": value}


def point_sim(p: PointSpec, seed: int, salt: str = "", *, dropouts: bool = True) -> PointSim:
    """The simulated sensor of ``p``; the same seed and salt (e.g. the enterprise's USCC) give
    the same signal for the same timestamps."""
    rng = random.Random(f"{seed}/{salt}/{p.code}")
    drops = Dropouts(random.Random(f"{seed}/{salt}/{p.code}/dropouts"))
    if not dropouts:
        drops.per_hour = 0.0
    return PointSim(p.code, signal_for(p, rng), drops, _DECIMALS.get(p.kind, 1))


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


def alarms_raised_since(session: Session, since: datetime) -> int:
    """How many alarms this node's database raised since ``since`` (the demo's minute line)."""
    from sqlalchemy import func, select

    from anjian.monitoring.models import Alarm

    return session.scalar(select(func.count()).where(Alarm.raised_at >= since)) or 0


def issue_tokens(session: Session, actor: Actor, gateways: Sequence[Gateway]) -> dict[str, str]:
    """Fresh gateway tokens for the simulated enterprises (audited as ``actor``). An earlier
    token of these enterprises stops working: simulate only where no real gateway sends."""
    from anjian.monitoring.service import issue_token

    return {g.uscc: issue_token(session, actor, g.uscc).token for g in gateways}


def default_url() -> str:
    """This node's own HTTP address from its settings."""
    from anjian.config import get_settings

    settings = get_settings()
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"
