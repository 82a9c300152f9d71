"""Simulated signals (模拟信号) for the simulated gateways of :mod:`anjian.monitoring.simulate`:
pure generators (no I/O, no clock), each fed timestamps in increasing order and answering a
value, deterministically for a given seed — tanks filling and emptying between their limits,
temperatures and pressures following the day, gas near zero with rare excursions that sometimes
cross H or HH, coal-mine methane near working faces with occasional rises, and sensors dropping
out (silence, or an ``offline``/``fault`` status for a while)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Protocol

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


def _drift(
    x: float, last: float | None, t: float, tau: float, sd: float, rng: random.Random
) -> float:
    """Drifting noise at ``t`` (see :func:`_ou_step`): drawn afresh at the first sample
    (``last`` None), else one step on from ``x``, the value at ``last``."""
    if last is None:
        return rng.gauss(0.0, sd)
    return _ou_step(x, t - last, tau, sd, rng)


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
        self._x, self._t = _drift(self._x, self._t, t, self.tau, self.sd, self.rng), t
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
        self._x, self._t = _drift(self._x, self._t, t, self.tau, self.noise, self.rng), t
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
