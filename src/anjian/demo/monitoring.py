"""Demo monitoring points (在线监测点): tank farms and gas detectors at chemical plants (linked to
their major hazard sources), methane, CO, oxygen and wind-speed sensors at coal mines, and the
online monitoring of tailings ponds at metal mines — registered through the monitoring service
like real ones (audited, synced), so that ``anjian simulate`` has something to feed.

A sample, not every enterprise: a few hundred points for the default 300 enterprises keep the
load fast. The demo enterprise user's own enterprise and the demo counties come first, so every
demo login sees live points."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor
from anjian.core.divisions.rules import prefix_upper_bound
from anjian.core.errors import Conflict
from anjian.core.scope import Scope, unscoped
from anjian.demo.generate import person_name
from anjian.enterprises.models import Enterprise
from anjian.major_hazards.service import list_sources
from anjian.monitoring.points import create_point, list_points
from anjian.monitoring.schemas import PointCreate

# How many enterprises of each kind get points: ≈ 20 × 7 + 16 × 9 + 6 × 5 ≈ 310 points.
CHEMICAL_PLANTS = 20
COAL_MINES = 16
TAILINGS_MINES = 6
# The simulator sends every few seconds; three silent periods mark a point offline.
PERIOD_S = 30


@dataclass(frozen=True)
class PointTemplate:
    """One point to register: its code and name (``{n}`` numbers tanks and faces), a preset or
    explicit kind and set points, and where it sits."""

    code: str
    name: str
    preset: str | None = None
    location: str = ""
    values: dict[str, Any] = field(default_factory=dict)


def _tank(n: int, product: str, location: str) -> PointTemplate:
    return PointTemplate(f"LT-{n}", f"{n % 100}#{product}储罐液位", "tank_level_pct", location)


def _gas(code: str, preset: str, where: str, gas: str) -> PointTemplate:
    return PointTemplate(code, f"{where}{gas}浓度", preset, where)


def _temperature(code: str, name: str, where: str, h: float, hh: float) -> PointTemplate:
    return PointTemplate(
        code, name, None, where, {"kind": "temperature", "unit": "°C", "h": h, "hh": hh}
    )


def _pressure(code: str, name: str, where: str, h: float, hh: float, top: float) -> PointTemplate:
    values = {"kind": "pressure", "unit": "MPa", "h": h, "hh": hh}
    return PointTemplate(code, name, None, where, {**values, "range_low": 0.0, "range_high": top})


# Points by the name of the plant's major hazard source (demo/risk.py SOURCES). Set points of
# temperatures and pressures are per plant in reality (design values); these are plausible.
CHEMICAL: dict[str, list[PointTemplate]] = {
    "液氨储罐区": [
        _tank(101, "液氨", "液氨储罐区"),
        _tank(102, "液氨", "液氨储罐区"),
        _temperature("TT-101", "液氨储罐温度", "液氨储罐区", 40.0, 45.0),
        _pressure("PT-101", "液氨储罐压力", "液氨储罐区", 1.6, 1.8, 2.5),
        _gas("GT-NH3-01", "gas_nh3", "液氨储罐区东侧", "氨气"),
        _gas("GT-NH3-02", "gas_nh3", "液氨装卸区", "氨气"),
    ],
    "液氯储存单元": [
        _tank(201, "液氯", "液氯库房"),
        _temperature("TT-201", "液氯储罐温度", "液氯库房", 40.0, 45.0),
        _pressure("PT-201", "液氯储罐压力", "液氯库房", 1.0, 1.2, 2.0),
        _gas("GT-CL2-01", "gas_cl2", "液氯库房", "氯气"),
        _gas("GT-CL2-02", "gas_cl2", "液氯汽化间", "氯气"),
    ],
    "甲醇罐区": [
        _tank(301, "甲醇", "甲醇储罐区"),
        _tank(302, "甲醇", "甲醇储罐区"),
        _tank(303, "甲苯", "甲醇储罐区"),
        _temperature("TT-301", "甲醇储罐温度", "甲醇储罐区", 40.0, 50.0),
        _gas("GT-EX-301", "gas_combustible", "甲醇罐区防火堤内", "可燃气体"),
        _gas("GT-EX-302", "gas_combustible", "甲醇装车鹤位", "可燃气体"),
    ],
    "合成氨装置": [
        _pressure("PT-401", "合成塔压力", "合成工段", 28.0, 30.0, 32.0),
        _temperature("TT-401", "合成塔出口温度", "合成工段", 500.0, 520.0),
        _gas("GT-EX-401", "gas_combustible", "合成压缩机房", "可燃气体"),
        _gas("GT-EX-402", "gas_combustible", "合成工段框架二层", "可燃气体"),
        _gas("GT-NH3-401", "gas_nh3", "氨冷冻工段", "氨气"),
        _gas("GT-CO-401", "gas_co", "变换工段", "一氧化碳"),
    ],
    "液氯钢瓶库": [
        _temperature("TT-501", "钢瓶库温度", "液氯钢瓶库", 40.0, 45.0),
        _gas("GT-CL2-501", "gas_cl2", "钢瓶库东", "氯气"),
        _gas("GT-CL2-502", "gas_cl2", "钢瓶库西", "氯气"),
    ],
}
# A plant without a registered source: a tank farm of its own.
CHEMICAL_DEFAULT = [
    _tank(601, "原料", "原料罐区"),
    _tank(602, "成品", "成品罐区"),
    _temperature("TT-601", "原料储罐温度", "原料罐区", 40.0, 50.0),
    _gas("GT-EX-601", "gas_combustible", "原料罐区", "可燃气体"),
    _gas("GT-H2S-601", "gas_h2s", "污水处理站", "硫化氢"),
]


def coal_points(face: str, heading: str, gassy: bool) -> list[PointTemplate]:
    """A mine's sensors around one longwall face and one heading (煤矿安全监控系统)."""
    fw, hw = f"{face}综采工作面", f"{heading}掘进工作面"
    points = [
        PointTemplate("CH4-T0", f"{face}上隅角甲烷", "coal_ch4_t0_upper_corner", fw + "上隅角"),
        PointTemplate("CH4-T1", f"{face}工作面甲烷", "coal_ch4_t1_face", fw),
        PointTemplate("CH4-T2", f"{face}回风巷甲烷", "coal_ch4_t2_face_return", fw + "回风巷"),
        PointTemplate("CH4-SJ", f"{face}采煤机甲烷", "coal_ch4_shearer", fw + "采煤机"),
        PointTemplate("CH4-JT1", f"{heading}掘进工作面甲烷", "coal_ch4_heading_face", hw),
        PointTemplate("CH4-JT2", f"{heading}掘进回风甲烷", "coal_ch4_heading_return", hw + "回风"),
        # 煤矿安全规程: CO at most 0.0024 % (24 ppm) where people work (REFERENCE §5.6).
        PointTemplate(
            "CO-1",
            f"{face}回风巷一氧化碳",
            None,
            fw + "回风巷",
            {"kind": "co", "unit": "ppm", "h": 24.0},
        ),
        PointTemplate("O2-1", f"{face}进风巷氧气", "gas_o2", fw + "进风巷"),
        # 煤矿安全规程 (采煤工作面 0.25–4 m/s; not in REFERENCE: set per mine).
        PointTemplate(
            "FS-1",
            f"{face}工作面风速",
            None,
            fw,
            {"kind": "wind_speed", "unit": "m/s", "l": 0.25, "h": 4.0},
        ),
    ]
    if gassy:  # high-gas mines watch the intake of the face as well (T3)
        points.append(
            PointTemplate("CH4-T3", f"{face}进风巷甲烷", "coal_ch4_t3_face_intake", fw + "进风巷")
        )
    return points


def tailings_points(crest: float) -> list[PointTemplate]:
    """A tailings pond's online monitoring (GB 51108): the set points are the pond's own, here
    from a made-up design with the dam crest at ``crest`` metres."""
    return [
        PointTemplate(
            "WL-1",
            "库水位",
            "tailings_water_level",
            "排水井",
            {"h": crest - 4.0, "hh": crest - 2.5, "range_low": crest - 14.0},
        ),
        PointTemplate(
            "BL-1",
            "干滩长度",
            "tailings_dry_beach",
            "滩顶",
            {"ll": 50.0, "l": 70.0, "range_high": 170.0},
        ),
        # orange = 1.1 × red (GB 51108 commentary §8.3): the burial depth must stay above both
        PointTemplate(
            "JR-1",
            "浸润线埋深",
            "tailings_phreatic",
            "坝体 1# 断面",
            {"ll": 6.0, "l": 6.6, "range_high": 14.0},
        ),
        PointTemplate(
            "WY-1", "坝顶位移", "tailings_displacement", "坝顶 1# 测点", {"h": 30.0, "hh": 50.0}
        ),
        # yellow = 暴雨 (24 h ≥ 50 mm), red here 大暴雨 (≥ 100 mm): rainfall of the last 24 h
        PointTemplate(
            "YL-1", "24 小时降雨量", "tailings_rainfall", "库区雨量站", {"h": 50.0, "hh": 100.0}
        ),
    ]


def _order(
    ents: Sequence[Enterprise], anchor_id: int | None, focus: set[str], rng: random.Random
) -> list[Enterprise]:
    """The anchor first, then the demo counties' enterprises, then the rest in random order;
    only enterprises in operation (the anchor always)."""
    anchor = [e for e in ents if e.id == anchor_id]
    near = [e for e in ents if e.id != anchor_id and e.division_code in focus]
    rest = [e for e in ents if e.id != anchor_id and e.division_code not in focus]
    rng.shuffle(rest)
    return anchor + [e for e in near + rest if e.status == "operating"]


def plan_points(
    enterprises: Sequence[Enterprise],
    sources: dict[int, tuple[int, str]],
    *,
    seed: int,
    anchor_id: int | None = None,
    focus: set[str] | frozenset[str] = frozenset(),
) -> list[tuple[Enterprise, int | None, PointTemplate]]:
    """Which points go where: (enterprise, major hazard source id or None, template).
    ``sources``: enterprise id → (source id, source name)."""
    rng = random.Random(seed + 17)
    by_category: dict[str, list[Enterprise]] = {}
    for e in enterprises:
        by_category.setdefault(e.supervision_category, []).append(e)
    plan: list[tuple[Enterprise, int | None, PointTemplate]] = []
    focus_set = set(focus)

    plants = _order(by_category.get("hazardous_chemicals", []), anchor_id, focus_set, rng)
    for ent in plants[:CHEMICAL_PLANTS]:
        source_id, source_name = sources.get(ent.id, (None, ""))
        templates = CHEMICAL.get(source_name, CHEMICAL_DEFAULT)
        plan += [(ent, source_id, t) for t in templates]

    mines = _order(by_category.get("coal_mine", []), anchor_id, focus_set, rng)
    for ent in mines[:COAL_MINES]:
        face = f"{rng.randint(1, 3)}{rng.randint(1, 4)}0{rng.randint(1, 9)}"
        heading = f"{rng.randint(1, 3)}{rng.randint(1, 4)}1{rng.randint(0, 9)}"
        for t in coal_points(face, heading, gassy=rng.random() < 0.35):
            plan.append((ent, None, t))

    # Metal mines (采选: ore dressing leaves tailings) keep a tailings pond.
    metal = [
        e
        for e in by_category.get("non_coal_mine", [])
        if e.industry_code.startswith(("B08", "B09"))
    ]
    for ent in _order(metal, anchor_id, focus_set, rng)[:TAILINGS_MINES]:
        crest = float(rng.randint(1050, 1450))
        plan += [(ent, None, t) for t in tailings_points(crest)]
    return plan


def load_monitoring(
    session: Session,
    scope: Scope,
    enterprises: Sequence[Enterprise],
    seed: int,
    *,
    anchor_id: int | None = None,
    focus: set[str] | frozenset[str] = frozenset(),
    progress: Callable[[str, int, int], None] | None = None,
) -> int:
    """Register the demo's monitoring points at a sample of ``enterprises`` (a point already
    there is left as it is). Returns how many were made."""
    sources: dict[int, tuple[int, str]] = {}
    found, _total = list_sources(session, scope, limit=None)
    for src in sorted(found, key=lambda s: s.id):
        sources.setdefault(src.enterprise_id, (src.id, src.name))
    plan = plan_points(enterprises, sources, seed=seed, anchor_id=anchor_id, focus=focus)
    rng = random.Random(seed + 19)
    actors: dict[int, Actor] = {}
    made = 0
    for i, (ent, source_id, t) in enumerate(plan):
        if ent.id not in actors:  # the enterprise's own staff register its points
            actors[ent.id] = Actor(
                user_id=None, username=person_name(rng), division_code=ent.division_code
            )
        data: dict[str, Any] = {
            "enterprise_id": ent.id,
            "code": t.code,
            "preset": t.preset,
            "location": t.location,
            "period_s": PERIOD_S,
            **t.values,
        }
        if t.name:
            data["name"] = t.name
        if source_id is not None:
            data["major_hazard_id"] = source_id
        try:
            create_point(session, actors[ent.id], scope, PointCreate(**data))
            made += 1
        except Conflict:
            pass  # registered by an earlier run (refused before anything is written)
        if progress is not None:
            progress("监测点 monitoring points", i + 1, len(plan))
    return made


@unscoped("demo loader: the province's enterprises of this node, for no user")
def top_up_monitoring(
    session: Session,
    scope: Scope,
    province: str,
    anchor_id: int | None,
    focus: set[str],
    seed: int,
    progress: Callable[[str, int, int], None] | None = None,
) -> int:
    """A demo loaded before monitoring existed gets its points once: when this node has no
    monitoring point at all, the demo's are registered at the province's enterprises of this
    node. Returns how many were made (0 when there were points already)."""
    _points, total = list_points(session, scope, limit=1)
    if total:
        return 0
    node = get_settings().effective_node_id
    ents = session.scalars(
        select(Enterprise)
        .where(
            Enterprise.division_code >= province[:2],
            Enterprise.division_code < prefix_upper_bound(province[:2]),
            Enterprise.origin_node == node,
            Enterprise.deleted.is_(False),
        )
        .order_by(Enterprise.id)
    ).all()
    return load_monitoring(
        session, scope, ents, seed, anchor_id=anchor_id, focus=focus, progress=progress
    )
