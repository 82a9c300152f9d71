"""Demo emergency resources (应急资源) and protection targets (防护目标): the county agency's
teams (professional and social), equipment, store with its supplies (one near its expiry),
experts, shelters and medical points around the county seat; the site enterprise's own team and
store and the anchor enterprise's team; the city's store and fire-rescue station and the
province's rescue teams; schools, a clinic, a nursing home and a village down the wind of the
site, and a few targets in the county seat."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.clock import today_in_china
from anjian.core.divisions.models import Division
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.scope import Scope, unscoped
from anjian.demo.data import SURNAMES, VILLAGE_SUFFIX
from anjian.demo.emergency.common import County, actor_of, moved, official_at, scope_of, toward
from anjian.demo.generate import mobile, person_name
from anjian.emergency.models import EmergencyResource
from anjian.emergency.resources import create_resource, set_supply
from anjian.emergency.schemas import ResourceCreate, SupplySet
from anjian.emergency.targets.schemas import TargetCreate
from anjian.emergency.targets.service import create_target
from anjian.enterprises.models import Enterprise


def _new(
    session: Session, who: tuple[Actor, Scope], kind: str, name: str, **fields: Any
) -> EmergencyResource:
    actor, scope = who
    return create_resource(session, actor, scope, ResourceCreate(kind=kind, name=name, **fields))


def _stock(
    session: Session,
    who: tuple[Actor, Scope],
    warehouse: EmergencyResource,
    supplies: list[tuple[str, str, int, date | None]],
) -> int:
    actor, scope = who
    for name, unit, quantity, expires in supplies:
        data = SupplySet(name=name, unit=unit, quantity=quantity, expires_on=expires)
        set_supply(session, actor, scope, warehouse.id, data)
    return len(supplies)


def load_resources(
    session: Session, c: County, site: Enterprise, anchor: Enterprise
) -> tuple[dict[str, EmergencyResource], int]:
    """The county agency's resources, the site's own team and store, the anchor's team."""
    rng, who, r = c.rng, (c.actor, c.scope), c.region
    owner = f"{r}应急管理局"
    today = today_in_china()
    site_at = (site.lng or c.seat[0], site.lat or c.seat[1])
    anchor_at = (anchor.lng or c.seat[0], anchor.lat or c.seat[1])

    def agency(kind: str, name: str, east: float, north: float, **fields: Any) -> EmergencyResource:
        fields.setdefault("owner", owner)
        return _new(
            session,
            who,
            kind,
            name,
            division_code=c.code,
            address=f"{r}{fields.pop('where', '')}",
            contact_name=fields.pop("contact", None) or person_name(rng),
            contact_phone=mobile(rng),
            **c.near(east, north),
            **fields,
        )

    res: dict[str, EmergencyResource] = {}
    res["hazmat"] = agency(
        "team",
        f"{r}危险化学品应急救援队",
        2600,
        1900,
        where="工业园区消防站",
        specialty="专业队伍：危险化学品泄漏侦检、堵漏、洗消，有毒气体防护",
        headcount=24,
        note="24 小时备勤，配防化洗消车 1 辆",
    )
    res["mine"] = agency(
        "team",
        f"{r}矿山应急救援中队",
        *(_offset_from(c.seat, anchor_at, 1500)),
        where="矿山救护基地",
        owner=f"{c.city_name}矿山救护大队" if c.city_name else owner,
        specialty="专业队伍：矿山救护——瓦斯煤尘爆炸、火灾、透水、冒顶事故抢险",
        headcount=30,
    )
    res["social"] = agency(
        "team",
        f"{r}蓝天救援队",
        -900,
        400,
        where="城区建设路",
        owner=f"{r}蓝天救援队（社会应急力量）",
        specialty="社会应急力量：山地搜救、水域救援、群众转移安置",
        headcount=45,
    )
    agency(
        "equipment",
        f"{r}应急指挥通信车",
        200,
        -300,
        where="应急管理局院内",
        specialty="卫星通信、单兵图传、布控球，可保障现场指挥部通信",
    )
    agency(
        "equipment",
        f"{r}大流量排水抢险车",
        -1800,
        -1200,
        where="应急物资储备库",
        specialty="排水能力 3000 m³/h，配移动照明",
    )
    store = agency(
        "warehouse",
        f"{r}应急物资储备库",
        -1800,
        -1100,
        where="城南物流园",
        capacity=2000,
        note="库容 2000 m²，24 小时值守",
    )
    count = 6 + _stock(
        session,
        who,
        store,
        [
            ("救灾帐篷", "顶", 300, None),
            ("折叠床", "张", 500, None),
            ("棉被", "床", 800, None),
            ("过滤式防毒面具", "个", 200, today + timedelta(days=25)),  # near expiry
            ("瓶装饮用水", "箱", 600, today + timedelta(days=160)),
            ("编织袋", "条", 5000, None),
            ("应急照明灯", "台", 120, None),
        ],
    )
    res["store"] = store
    for name, specialty, employer in (
        (person_name(rng), "危险化学品安全（化工工艺、泄漏处置）", f"{c.city_name}化工行业协会"),
        (person_name(rng), "矿山安全（通风与瓦斯防治）", f"{c.city_name}煤炭工业局"),
        (person_name(rng), "应急医学救援（中毒救治）", f"{r}人民医院"),
    ):
        east, north = rng.randint(-1500, 1500), rng.randint(-1500, 1500)
        agency("expert", name, east, north, owner=employer, specialty=specialty, contact=name)
    res["square"] = agency(
        "shelter",
        f"{r}人民广场应急避难场所",
        -400,
        -600,
        where="人民广场",
        capacity=8000,
        note="Ⅱ类避难场所，设应急供水、供电和厕所",
    )
    agency("shelter", f"{r}体育场应急避难场所", 900, -1300, where="体育场", capacity=5000)
    res["hospital"] = agency(
        "medical",
        f"{r}人民医院急救中心",
        -300,
        700,
        where="人民医院",
        headcount=40,
        capacity=120,
        specialty="急诊、中毒救治，负压救护车 3 辆",
    )
    agency("medical", f"{r}120急救分站", 1200, 300, where="城东", headcount=12, capacity=4)
    count += 7  # experts, shelters, medical points
    # the site's own team and store, registered by its safety manager
    own = (
        Actor(user_id=None, username=site.safety_manager, division_code=c.code),
        Scope.for_enterprise(None, site.id),
    )
    base = dict(division_code=c.code, enterprise_id=site.id, owner=site.name)
    res["site_team"] = _new(
        session,
        own,
        "team",
        f"{site.name}专职应急救援队",
        specialty="企业专职队：泄漏堵漏、个体防护、初期火灾扑救",
        headcount=16,
        contact_name=site.safety_manager,
        contact_phone=mobile(rng),
        **moved(*site_at, 60, -40),
        **base,
    )
    site_store = _new(
        session,
        own,
        "warehouse",
        f"{site.name}应急物资库",
        contact_name=site.safety_manager,
        contact_phone=mobile(rng),
        **moved(*site_at, -50, 30),
        **base,
    )
    res["site_store"] = site_store
    count += 2 + _stock(
        session,
        own,
        site_store,
        [
            ("正压式空气呼吸器", "套", 12, None),
            ("重型防化服", "套", 8, today + timedelta(days=400)),
            ("堵漏工具", "套", 4, None),
            ("便携式有毒气体检测仪", "台", 6, None),
            ("应急洗消剂", "千克", 200, today + timedelta(days=220)),
        ],
    )
    if anchor.id != site.id:
        anchor_own = Actor(user_id=None, username=anchor.safety_manager, division_code=c.code)
        res["anchor_team"] = _new(
            session,
            (anchor_own, Scope.for_enterprise(None, anchor.id)),
            "team",
            f"{anchor.name}兼职救护队",
            division_code=c.code,
            enterprise_id=anchor.id,
            owner=anchor.name,
            specialty="企业兼职队：初期灾情处置、自救互救、引导撤离",
            headcount=20,
            contact_name=anchor.safety_manager,
            contact_phone=mobile(rng),
            **moved(*anchor_at, 80, 60),
        )
        count += 1
    return res, count


def _offset_from(
    seat: tuple[float, float], target: tuple[float, float], metres: float
) -> tuple[float, float]:
    """(east, north) metres from ``seat`` of a point ``metres`` short of ``target`` on the way
    there (half-way when it is nearer)."""
    east = (target[0] - seat[0]) * 111_320 * math.cos(math.radians(seat[1]))
    north = (target[1] - seat[1]) * 111_320
    length = math.hypot(east, north)
    if length <= metres:
        return east / 2, north / 2
    keep = (length - metres) / length
    return east * keep, north * keep


@unscoped("demo loader: the province's rescue-team organisations the demo made")
def _rescue_orgs(session: Session, province: str) -> list[Organisation]:
    return list(
        session.scalars(
            select(Organisation)
            .where(
                Organisation.kind == OrgKind.RESCUE_TEAM,
                Organisation.division_code.startswith(province[:2]),
            )
            .order_by(Organisation.id)
        )
    )


def load_upper_resources(session: Session, c: County) -> int:
    """The city's store and fire-rescue station, the province's rescue teams (the demo's
    rescue-team organisations) at their cities."""
    made = 0
    rng = c.rng
    city = official_at(session, c.city_code) if c.city_code else None
    if city is not None:
        town = session.get(Division, city.division_code)
        at = (town.lng, town.lat) if town and town.lng is not None else c.seat
        who = (actor_of(city), scope_of(city))
        code = city.division_code
        store = _new(
            session,
            who,
            "warehouse",
            f"{c.city_name}应急物资储备库",
            owner=f"{c.city_name}应急管理局",
            capacity=6000,
            contact_name=person_name(rng),
            contact_phone=mobile(rng),
            division_code=code,
            **moved(*at, 1500, -800),
        )
        made += 1 + _stock(
            session,
            who,
            store,
            [
                ("救灾帐篷", "顶", 1200, None),
                ("发电机组", "台", 20, None),
                ("冲锋舟", "艘", 10, None),
                ("方便食品", "箱", 900, today_in_china() + timedelta(days=90)),
            ],
        )
        _new(
            session,
            who,
            "team",
            f"{c.city_name}消防救援支队特勤站",
            owner=f"{c.city_name}消防救援支队",
            specialty="专业队伍：灭火、危化品处置、高空和狭小空间救援",
            headcount=60,
            contact_name=person_name(rng),
            contact_phone=mobile(rng),
            division_code=code,
            **moved(*at, -600, 900),
        )
        made += 1
    province = official_at(session, c.code[:2] + "0000")
    if province is None:
        return made
    who = (actor_of(province), scope_of(province))
    for org in _rescue_orgs(session, province.division_code):
        town = session.get(Division, org.division_code)
        if town is None or town.lng is None or town.lat is None:
            continue
        mine = "矿山" in org.name
        _new(
            session,
            who,
            "team",
            org.name,
            division_code=org.division_code,
            owner=org.name,
            specialty="国家专业队伍：矿山事故抢险救援"
            if mine
            else "省级专业队伍：危险化学品事故抢险、堵漏、洗消",
            headcount=160 if mine else 90,
            contact_name=person_name(rng),
            contact_phone=mobile(rng),
            **moved(town.lng, town.lat, 2000, 1000),
        )
        made += 1
    return made


def load_targets(session: Session, c: County, site: Enterprise, town: str) -> tuple[list[str], int]:
    """Protection targets down the prevailing north-west wind of ``site`` (so a threat zone
    drawn from it lists them) and a few in the county seat; the names of those near the site
    and how many were made."""
    rng = c.rng
    village = rng.choice(SURNAMES) + rng.choice(VILLAGE_SUFFIX)
    at = (site.lng or c.seat[0], site.lat or c.seat[1])
    near = [
        ("school", f"{town}镇中心小学", 700, 134, 680, "在校师生"),
        ("hospital", f"{town}镇卫生院", 950, 137, 60, "住院病人及医护人员"),
        ("nursing_home", f"{town}镇敬老院", 1200, 133, 48, "老人多行动不便，转移需车辆"),
        ("residential", f"{town}镇{village}村", 1500, 136, 2300, "常住人口"),
    ]
    for kind, name, metres, bearing, people, note in near:
        create_target(
            session,
            c.actor,
            c.scope,
            TargetCreate(
                kind=kind,
                name=name,
                division_code=c.code,
                address=f"{c.region}{town}镇",
                population=people,
                contact_name=person_name(rng),
                contact_phone=mobile(rng),
                note=note,
                **moved(*at, *toward(bearing, metres)),
            ),
        )
    for kind, name, east, north, people in (
        ("school", f"{c.region}第一中学", -700, 200, 2400),
        ("kindergarten", f"{c.region}第一幼儿园", -200, -500, 320),
        ("hospital", f"{c.region}人民医院", -300, 650, 650),
        ("crowded_place", f"{c.region}汽车客运站", 600, -900, 500),
    ):
        create_target(
            session,
            c.actor,
            c.scope,
            TargetCreate(
                kind=kind,
                name=name,
                division_code=c.code,
                address=f"{c.region}城区",
                population=people,
                contact_name=person_name(rng),
                contact_phone=mobile(rng),
                **c.near(east, north),
            ),
        )
    return [name for _kind, name, *_rest in near], len(near) + 4
