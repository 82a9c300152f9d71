"""Demo risk points (风险点) and major hazard sources (重大危险源): four-colour maps with points
near each enterprise, and tank farms of the chemical plants identified, graded and filed —
made through the services like real ones."""

from __future__ import annotations

import random

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.scope import Scope
from anjian.demo.generate import person_name
from anjian.enterprises.models import Enterprise
from anjian.major_hazards import service as major_hazards
from anjian.major_hazards.schemas import SourceCreate
from anjian.risk import service as risk
from anjian.risk.schemas import RiskPointCreate

# (name, kind, hazards, (L, E, C), control level) by supervision category
POINTS: dict[str, list[tuple[str, str, str, tuple[float, float, float], str]]] = {
    "coal_mine": [
        ("综采工作面", "area", "瓦斯积聚、煤尘爆炸、冒顶片帮", (3, 6, 40), "company"),
        ("主斜井皮带运输", "facility", "皮带跑偏着火、人员卷入", (3, 6, 15), "workshop"),
        ("井下中央变电所", "facility", "触电、电气火灾", (1, 6, 15), "workshop"),
        ("掘进工作面爆破作业", "job", "放炮伤人、瓦斯爆炸", (1, 3, 40), "company"),
        ("副井提升", "facility", "断绳、过卷", (0.5, 6, 40), "team"),
    ],
    "hazardous_chemicals": [
        ("液氨储罐区", "area", "泄漏中毒、火灾爆炸", (3, 10, 40), "company"),
        ("合成工段", "facility", "超温超压、泄漏", (1, 10, 15), "workshop"),
        ("装卸作业", "job", "泄漏、静电着火", (3, 3, 15), "team"),
        ("受限空间作业", "job", "中毒窒息", (1, 2, 40), "company"),
    ],
    "other": [
        ("除尘系统", "facility", "粉尘爆炸", (1, 6, 40), "company"),
        ("行车吊装作业", "job", "起重伤害", (3, 6, 7), "team"),
        ("配电室", "facility", "触电", (1, 3, 7), "post"),
        ("机加工区域", "area", "机械伤害", (3, 6, 3), "post"),
    ],
}

# (source name, unit name, kind, [(chemical, tonnes)], people within 500 m) for chemical plants,
# in the order plants take them: by GB 18218-2018 the first four grade 一级, 三级, 二级, 四级 (so
# even a small demo has every grade), then more substances a Shanxi chemical or coking plant
# keeps (liquefied petroleum gas, crude benzene, coke-oven gas, ethylene oxide, petrol, hydrogen
# sulphide, sulphur dioxide). The grades are checked by tests/test_demo.py.
SOURCES = [
    ("液氯储存单元", "液氯库房", "storage", [("液氯", 80.0)], 260),  # 一级 R 128
    ("液氨储罐区", "液氨储罐区", "storage", [("液氨", 60.0)], 45),  # 三级 R 14.4
    ("液化石油气球罐区", "球罐区", "storage", [("液化石油气", 1000.0)], 150),  # 二级 R 60
    ("甲醇罐区", "甲醇储罐区", "storage", [("甲醇", 1800.0), ("甲苯", 300.0)], 12),  # 四级
    ("粗苯储罐区", "粗苯储罐区", "storage", [("苯", 120.0), ("甲苯", 200.0)], 20),  # 四级
    ("煤气柜", "煤气柜区", "storage", [("煤气", 30.0)], 60),  # 四级
    ("环氧乙烷罐区", "环氧乙烷储罐区", "storage", [("环氧乙烷", 60.0)], 90),  # 三级
    ("液氯钢瓶库", "钢瓶库", "storage", [("液氯", 40.0)], 150),  # 二级 R 64
    ("合成氨装置", "合成工段", "production", [("氢", 3.0), ("氨", 12.0), ("天然气", 20.0)], 80),
    ("汽油罐区", "汽油储罐区", "storage", [("汽油", 3000.0)], 25),  # 三级
    ("脱硫单元", "脱硫工段", "production", [("硫化氢", 8.0)], 40),  # 四级
    ("二氧化硫储罐", "二氧化硫储罐区", "storage", [("二氧化硫", 50.0)], 70),  # 四级
]


def load_risk(session: Session, scope: Scope, enterprises: list[Enterprise], seed: int) -> int:
    """Risk points for each enterprise of the sample, around its location. Returns the count."""
    rng = random.Random(seed + 11)
    made = 0
    for ent in enterprises:
        kind = ent.supervision_category if ent.supervision_category in POINTS else "other"
        actor = Actor(user_id=None, username=person_name(rng), division_code=ent.division_code)
        for name, point_kind, hazards, (f_l, f_e, f_c), level in POINTS[kind]:
            near = ent.lng is not None and ent.lat is not None
            risk.create_point(
                session,
                actor,
                scope,
                RiskPointCreate(
                    enterprise_id=ent.id,
                    name=name,
                    kind=point_kind,
                    hazards=hazards,
                    method="LEC",
                    L=f_l,
                    E=f_e,
                    C=f_c,
                    lng=round(ent.lng + rng.uniform(-0.004, 0.004), 6) if near else None,
                    lat=round(ent.lat + rng.uniform(-0.003, 0.003), 6) if near else None,
                    control_measures="落实岗位责任制，定期巡检，监测监控在线",
                    control_level=level,
                    responsible=person_name(rng),
                ),
            )
            made += 1
    return made


def load_major_hazards(
    session: Session, scope: Scope, enterprises: list[Enterprise], seed: int
) -> int:
    """A major hazard source at each chemical plant of the sample; most are filed."""
    rng = random.Random(seed + 13)
    plants = [e for e in enterprises if e.supervision_category == "hazardous_chemicals"]
    made = 0
    for i, ent in enumerate(plants):
        name, unit, kind, chemicals, people = SOURCES[i % len(SOURCES)]
        actor = Actor(user_id=None, username=person_name(rng), division_code=ent.division_code)
        src = major_hazards.create_source(
            session,
            actor,
            scope,
            SourceCreate.model_validate(
                {
                    "enterprise_id": ent.id,
                    "name": name,
                    "people_within_500m": people,
                    "units": [
                        {
                            "name": unit,
                            "kind": kind,
                            "people_within_500m": people,
                            "chemicals": [{"name": c, "quantity_t": q} for c, q in chemicals],
                        }
                    ],
                    "responsible_main": person_name(rng),
                    "responsible_technical": person_name(rng),
                    "responsible_operational": person_name(rng),
                }
            ),
        )
        made += 1
        if src.is_major and rng.random() < 0.8:
            major_hazards.submit_source(session, actor, scope, src.id)
            if rng.random() < 0.8:
                official = Actor(user_id=None, username=person_name(rng))
                number = f"{ent.division_code}-WHY-{2026 - rng.randint(0, 5)}-{i + 1:03d}"
                major_hazards.file_source(session, official, scope, src.id, number)
    return made
