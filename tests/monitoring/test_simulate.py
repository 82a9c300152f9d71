"""``anjian simulate``: the signal generators by table (tanks stay within their limits and both
fill and empty, gas is near zero with rare excursions past H, methane sits near its working
face's level, dropouts are silence or a status, one seed one signal), the pacing, and the
runner feeding a node over MQTT (the machine's Mosquitto, an in-process ingest worker) and
over HTTP."""

from __future__ import annotations

import math
import random
import statistics
import time
import uuid
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.enterprises.rules import compose_uscc
from anjian.monitoring.models import Reading
from anjian.monitoring.presets import PRESETS
from anjian.monitoring.rules import KINDS
from anjian.monitoring.signals import (
    FAULT,
    OFFLINE,
    Daily,
    Dropouts,
    Excursions,
    PointSpec,
    TankLevel,
    point_sim,
    signal_for,
)
from anjian.monitoring.simulate import (
    MIN_PERIOD_S,
    Gateway,
    HttpSender,
    Simulator,
    issue_tokens,
    local_gateways,
    mqtt_sender,
    pace,
)

CHEM_USCC = compose_uscc("140621", "MA0K0002")
T0 = 1_764_400_000.0  # 2025-11-29 15:06 Beijing time


def _series(signal: Any, hours: float, dt: float = 5.0) -> list[float]:
    return [signal.at(T0 + i * dt) for i in range(int(hours * 3600 / dt))]


# --- generators -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "seed"),
    [(15.0, 80.0, 1), (15.0, 80.0, 2), (0.5, 9.5, 3), (30.0, 60.0, 4)],
)
def test_tank_stays_within_its_limits_and_fills_and_empties(
    low: float, high: float, seed: int
) -> None:
    values = _series(TankLevel(low, high, random.Random(seed)), hours=4, dt=10)
    assert all(low <= v <= high for v in values)
    span = high - low
    # Somewhere it goes from near empty to near full and back (or the other way round).
    marks = [
        "low" if v < low + 0.25 * span else "high" if v > high - 0.25 * span else "" for v in values
    ]
    turns = [
        m for i, m in enumerate(marks) if m and m != next((x for x in marks[:i][::-1] if x), "")
    ]
    assert len(turns) >= 3, turns
    steps = [b - a for a, b in pairwise(values)]
    assert sum(s > 0 for s in steps) > len(steps) / 5  # filling a good part of the time
    assert sum(s < 0 for s in steps) > len(steps) / 5  # and emptying


@pytest.mark.parametrize(
    ("kind", "h", "hh", "seed"),
    [
        ("combustible_gas", 25.0, 50.0, 1),
        ("combustible_gas", 25.0, 50.0, 2),
        ("toxic_gas", 10.0, 20.0, 3),
        ("co", 24.0, None, 4),
    ],
)
def test_gas_is_near_zero_with_rare_excursions_past_h(
    kind: str, h: float, hh: float | None, seed: int
) -> None:
    signal = signal_for(PointSpec("GT", kind, h=h, hh=hh), random.Random(seed))
    values = _series(signal, hours=24)
    assert min(values) >= 0.0
    assert sum(v < 0.1 * h for v in values) / len(values) > 0.9  # mostly near zero
    crossings = sum(a < h <= b for a, b in pairwise(values))
    assert 1 <= crossings <= 20, crossings  # an excursion past H, and a rare one


def test_some_gas_excursions_reach_hh_over_a_week() -> None:
    signal = signal_for(PointSpec("GT", "toxic_gas", h=10.0, hh=20.0), random.Random(5))
    values = _series(signal, hours=7 * 24, dt=10)
    assert max(values) >= 20.0
    assert sum(v >= 10.0 for v in values) / len(values) < 0.02


@pytest.mark.parametrize(
    ("preset", "level"),
    [("coal_ch4_t1_face", (0.25, 0.45)), ("coal_ch4_t3_face_intake", (0.03, 0.1))],
)
def test_methane_sits_near_its_face_level_and_rises_now_and_then(
    preset: str, level: tuple[float, float]
) -> None:
    p = PRESETS[preset]
    signal = signal_for(PointSpec("CH4", "ch4", h=p.h, hh=p.hh, preset=preset), random.Random(1))
    values = _series(signal, hours=24)
    assert level[0] < statistics.median(values) < level[1]
    assert max(values) > 1.5 * statistics.median(values)  # rises while coal is cut
    assert p.h is not None and sum(v >= p.h for v in values) / len(values) < 0.02


def test_temperature_follows_the_day() -> None:
    signal = Daily(20.0, 5.0, 0.3, random.Random(1), peak_hour=15.0)
    values = _series(signal, hours=24, dt=60)
    hours = [((T0 + i * 60 + 8 * 3600) % 86_400) / 3600 for i in range(len(values))]
    afternoon = [v for v, hr in zip(values, hours, strict=True) if 13 <= hr < 17]
    night = [v for v, hr in zip(values, hours, strict=True) if 1 <= hr < 5]
    assert abs(statistics.mean(values) - 20.0) < 1.0
    assert min(afternoon) > max(night)
    assert 23 < max(values) < 27 and 13 < min(values) < 17


@pytest.mark.parametrize("code", sorted(PRESETS))
def test_every_preset_gives_a_finite_signal_inside_its_set_points(code: str) -> None:
    p = PRESETS[code]
    spec = PointSpec("X", p.kind, p.ll, p.l, p.h, p.hh, preset=code)
    values = _series(signal_for(spec, random.Random(3)), hours=1, dt=10)
    assert all(math.isfinite(v) for v in values)
    middle = statistics.median(values)
    assert p.h is None or middle < p.h
    assert p.l is None or middle > p.l


def test_every_kind_has_a_signal() -> None:
    for kind in KINDS:
        values = _series(signal_for(PointSpec("X", kind), random.Random(1)), hours=0.5)
        assert all(math.isfinite(v) for v in values), kind


def test_dropouts_are_silence_or_a_status_for_a_while() -> None:
    sim = point_sim(PointSpec("GT", "combustible_gas", h=25, hh=50), seed=1)
    sim.dropouts = Dropouts(random.Random(2), per_hour=2.0, min_s=60, max_s=300)
    dt = 5
    readings = [sim.reading(int((T0 + i * dt) * 1000)) for i in range(int(24 * 3600 / dt))]
    kinds = ["silent" if r is None else r.get("status", "ok") for r in readings]
    assert {"silent", OFFLINE, FAULT, "ok"} <= set(kinds)
    assert kinds.count("ok") > 0.7 * len(kinds)
    # An outage lasts a while (at least min_s), then the sensor reports normally again.
    runs = []
    for i, k in enumerate(kinds):
        if k != "ok" and (i == 0 or kinds[i - 1] == "ok"):
            j = i
            while j < len(kinds) and kinds[j] == k:
                j += 1
            runs.append((k, j - i))
    assert all(n * dt >= 55 for _k, n in runs[:-1]), runs
    offline = [r for r in readings if r is not None and r.get("status") == OFFLINE]
    assert all("value" not in r for r in offline)


def test_the_same_seed_gives_the_same_signal() -> None:
    spec = PointSpec("LT-1", "tank_level", 5, 10, 85, 90, preset="tank_level_pct")
    stamps = [int((T0 + i * 3) * 1000) for i in range(2000)]

    def run(seed: int, salt: str = "A") -> list[Any]:
        sim = point_sim(spec, seed, salt)
        return [sim.reading(ts) for ts in stamps]

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert run(7, "A") != run(7, "B")  # the same tag at another enterprise
    gas = PointSpec("GT", "combustible_gas", h=25, hh=50)
    assert _series(signal_for(gas, random.Random(9)), 6) == _series(
        signal_for(gas, random.Random(9)), 6
    )
    assert _series(Excursions(0.1, 0.01, 3.0, random.Random(1)), 2) == _series(
        Excursions(0.1, 0.01, 3.0, random.Random(1)), 2
    )


@pytest.mark.parametrize(
    ("points", "rate"), [(287, 100), (287, 200), (4, 200), (1, 1), (10, 5000), (3000, 50)]
)
def test_pace_delivers_the_rate(points: int, rate: float) -> None:
    p = pace(points, rate)
    assert p.period_s >= MIN_PERIOD_S or p.per_batch == 1
    assert p.per_batch >= 1 and p.spacing_ms >= 1
    assert p.per_batch * p.spacing_ms / 1000 == pytest.approx(p.period_s)
    assert points * p.per_batch / p.period_s == pytest.approx(rate, rel=0.05)


class _Collect:
    def __init__(self) -> None:
        self.batches: list[tuple[str, dict[str, Any]]] = []

    def send(self, gateway: Any, batch: dict[str, Any]) -> bool:
        self.batches.append((gateway.uscc, batch))
        return True

    def close(self) -> None:
        return None


def test_batches_never_go_back_in_time() -> None:
    from anjian.monitoring.simulate import Gateway

    gw = Gateway(1, "X", "x", (PointSpec("A", "flow"), PointSpec("B", "o2")))
    sim = Simulator([gw], _Collect(), rate=40, dropouts=False)
    now = int(T0 * 1000)
    first = sim.batch(0, now)
    assert [r["ts"] for r in first["readings"]][-2:] == [now, now]
    assert len(first["readings"]) == 2 * sim.pace.per_batch
    assert sim.batch(0, now - 10)["readings"] == []  # a tick that came back early
    later = sim.batch(0, now + 100)["readings"]
    assert later and all(r["ts"] > now for r in later)


# --- the runner against a node ----------------------------------------------------------------


def _stored(node: Any) -> dict[int, int]:
    with node.db() as s:
        return dict(
            s.execute(select(Reading.point_id, func.count()).group_by(Reading.point_id)).all()
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_simulated_gateway_over_mosquitto_is_stored(
    personas: Any, worker: Any, mosquitto: int
) -> None:
    node = personas
    # The chemical plant of 山阴: other runs on this Mosquitto watch the 应县 mine's topic.
    node.add_points(
        "shan_chem",
        {"code": "LT-101", "preset": "tank_level_pct"},
        {"code": "TT-101", "kind": "temperature", "h": 40, "hh": 45},
        {"code": "PT-101", "kind": "pressure", "h": 1.6, "hh": 1.8},
        {"code": "GT-EX-1", "preset": "gas_combustible"},
    )
    group = f"t{uuid.uuid4().hex[:8]}"
    worker(
        ANJIAN_MQTT_URL=f"mqtt://127.0.0.1:{mosquitto}",
        ANJIAN_MQTT_SHARED_GROUP=group,
        ANJIAN_MQTT_CLIENT_ID=group,
    )
    with node.db() as s:
        gateways = local_gateways(s)
    assert [(g.uscc, len(g.points)) for g in gateways] == [(CHEM_USCC, 4)]
    sender = mqtt_sender()  # the URL's broker (no credentials on this Mosquitto)
    sim = Simulator(gateways, sender, rate=200, seed=7, dropouts=False)
    assert sender.connected.wait(10)
    stats = sim.run(2.0)
    sender.close()
    assert stats.skipped == 0 and stats.readings >= 200, stats
    deadline = time.monotonic() + 15
    while sum(_stored(node).values()) < stats.readings and time.monotonic() < deadline:
        time.sleep(0.1)
    stored = _stored(node)
    assert sum(stored.values()) == stats.readings
    assert len(stored) == 4 and min(stored.values()) >= 50


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_simulated_gateway_over_http_with_fresh_tokens(personas: Any) -> None:
    from anjian.core.audit.models import AuditRecord
    from anjian.core.audit.service import SYSTEM

    node = personas
    node.add_points(
        "ying_mine",
        {"code": "CH4-T1", "preset": "coal_ch4_t1_face"},
        {"code": "CO-1", "kind": "co", "unit": "ppm", "h": 24},
    )
    with node.db() as s:
        gateways = local_gateways(s)
        tokens = issue_tokens(s, SYSTEM, gateways)
    sender = HttpSender("https://testserver", tokens, client=node.client)  # the app in-process
    stats = Simulator(gateways, sender, rate=100, seed=1, dropouts=False).run(1.0)
    assert stats.skipped == 0 and stats.readings >= 50 and sender.rejected == 0, stats
    stored = _stored(node)
    assert len(stored) == 2 and sum(stored.values()) == stats.readings
    with node.db() as s:
        assert s.scalar(select(func.count()).where(AuditRecord.action == "gateway.token")) == len(
            gateways
        )


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--via", "pigeon"], "via"),
        (["--rate", "0"], "rate"),
        (["--seconds", "-1"], "seconds"),
        (["--enterprises", "0"], "enterprises"),
        (["--url", "http://127.0.0.1:8000"], "url"),  # --url goes with --via http
        (["--via", "http", "--url", "ftp://x"], "url"),
    ],
)
def test_bad_options_are_refused_with_a_message(args: list[str], field: str) -> None:
    result = CliRunner().invoke(cli, ["simulate", *args])
    assert result.exit_code == 1
    assert f"({field})" in result.output and "错误" in result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_node_without_points_has_nothing_to_simulate(node: Any) -> None:
    result = CliRunner().invoke(cli, ["simulate", "--seconds", "1"])
    assert result.exit_code == 1
    assert "没有登记监测点" in "".join(result.output.split())


def test_run_hands_its_totals_to_the_report_callback() -> None:
    """``anjian demo --serve`` prints a summary a minute through ``report`` (not a line per
    batch)."""
    from anjian.monitoring.simulate import Gateway

    gw = Gateway(1, "X", "x", (PointSpec("A", "flow"),))
    seen: list[int] = []
    sim = Simulator([gw], _Collect(), rate=50, dropouts=False)
    stats = sim.run(0.5, report_every_s=0.1, report=lambda s: seen.append(s.readings))
    assert 3 <= len(seen) <= 6
    assert seen == sorted(seen) and seen[-1] <= stats.readings


class _Nowhere:
    def send(self, gateway: Any, batch: dict[str, Any]) -> bool:
        return True

    def close(self) -> None:
        pass


@pytest.mark.parametrize("seed", [1, 2026, 99])
def test_the_demo_opening_sends_gas_past_its_set_points_within_the_first_minute(
    seed: int,
) -> None:
    """`anjian demo --serve` asks for an opening: that many gas points surely cross H (some HH)
    in the first minute, whatever the seed; without it the same points stay quiet."""
    gas = tuple(
        PointSpec(f"GT-{i}", "combustible_gas", h=25.0, hh=50.0, range_high=100.0) for i in range(5)
    )
    gateways = [Gateway(1, CHEM_USCC, "化工", gas)]

    def crossed(opening: int) -> set[str]:
        sim = Simulator(gateways, _Nowhere(), rate=5.0, seed=seed, opening=opening)
        start = int(T0 * 1000)
        over: set[str] = set()
        for ms in range(start, start + 60_000, 1000):
            for r in sim.batch(0, ms)["readings"]:
                if r.get("value", 0.0) >= 25.0:
                    over.add(r["point"])
        return over

    assert len(crossed(3)) == 3
    assert crossed(0) == set()
