"""Demo emergency management (应急管理) at the first demo county, its city and province: resources
of every kind near the county's enterprises (rescue teams — professional, enterprise and social —
equipment, warehouses with their supplies, experts, shelters, medical points), plans (the
county's 总体预案 in force, a special plan near its revision, enterprise plans filed, awaiting
review and still to file) and drills (one held and evaluated, one to come), the duty roster of
the county's and the city's desks from yesterday to a week ahead, protection targets down the
wind of an enterprise keeping a toxic chemical, and two events (see ``events``). Each
through the services (audited, scoped, synced), so the 应急管理 pages have a county's work to
show."""

from __future__ import annotations

import random

from sqlalchemy.orm import Session

from anjian.core.divisions.models import Division
from anjian.core.iam.models import User
from anjian.core.orgs.models import Organisation
from anjian.core.scope import Scope
from anjian.demo.data import TOWN_FIRST, TOWN_SUFFIX
from anjian.demo.emergency.common import County, actor_of, scope_of
from anjian.demo.emergency.duty import load_rosters
from anjian.demo.emergency.events import Scene, load_events
from anjian.demo.emergency.plans import load_plans
from anjian.demo.emergency.resources import load_resources, load_targets, load_upper_resources
from anjian.demo.generate import person_name
from anjian.emergency.chemicals import chemical
from anjian.emergency.models import EmergencyResource
from anjian.enterprises.models import Enterprise
from anjian.major_hazards.models import MajorHazardSource

# What the demo's events and zones need to be toxic (not merely flammable, as LPG is).
TOXIC = frozenset({"氯", "氨", "硫化氢", "二氧化硫", "氯化氢", "光气", "氰化氢", "一氧化碳"})


def load_emergency(session: Session, official: User, anchor_id: int, seed: int) -> int:
    """Emergency management at ``official``'s county (the first demo county), its city and its
    province; how many records were made (0 when the county has resources already: a rerun
    over an older demo gets them once)."""
    code = official.division_code
    scope = scope_of(official)
    have = session.scalars(
        scope.select(EmergencyResource).where(EmergencyResource.division_code == code).limit(1)
    ).first()
    if have is not None:
        return 0
    rng = random.Random(seed + 19)
    division = session.get(Division, code)
    assert division is not None
    agency = session.get(Organisation, official.org_id) if official.org_id else None
    region = agency.name.removesuffix("应急管理局") if agency is not None else division.name
    parent = session.get(Division, division.parent_code) if division.parent_code else None
    ents = list(
        session.scalars(
            scope.select(Enterprise)
            .where(Enterprise.division_code == code, Enterprise.deleted.is_(False))
            .order_by(Enterprise.id)
        )
    )
    if not ents:
        return 0
    anchor = next((e for e in ents if e.id == anchor_id), ents[0])
    seat = (division.lng, division.lat)
    if seat[0] is None or seat[1] is None:
        seat = (anchor.lng or 112.0, anchor.lat or 37.0)
    county = County(
        code=code,
        region=region,
        city_code=parent.code if parent is not None and parent.tier == "city" else None,
        city_name=parent.name if parent is not None else "",
        seat=(float(seat[0]), float(seat[1])),
        official=official,
        actor=actor_of(official),
        scope=scope,
        rng=rng,
    )
    site, unit, chem = _site(session, scope, ents, anchor)
    other = anchor if anchor.id != site.id else next((e for e in ents if e.id != site.id), anchor)
    made = 0
    res, count = load_resources(session, county, site, anchor)
    made += count
    made += load_upper_resources(session, county)
    town = rng.choice(TOWN_FIRST) + rng.choice(TOWN_SUFFIX)
    targets, count = load_targets(session, county, site, town)
    made += count
    made += load_plans(session, county, res, list(dict.fromkeys([site, anchor, *ents])), chem)
    leaders, count = load_rosters(session, county)
    made += count
    made += load_events(
        session,
        Scene(
            actor=county.actor,
            scope=scope,
            region=region,
            city_desk=f"{county.city_name}应急管理局值班室" if county.city_name else "上级值班室",
            town=town,
            commander=f"{leaders[0]}（{region}应急管理局局长）"[:64],
            site_commander=f"{person_name(rng)}（{region}消防救援大队大队长）"[:64],
            site=site,
            place=unit,
            chemical=chem,
            other=other,
            site_team=res["site_team"],
            county_team=res["hazmat"],
            mine_team=res["mine"],
            medical=res["hospital"],
            evacuated=targets,
        ),
    )
    return made


def _site(
    session: Session, scope: Scope, ents: list[Enterprise], anchor: Enterprise
) -> tuple[Enterprise, str, str | None]:
    """The enterprise of the county keeping a toxic chemical in a major hazard source (the
    event in progress happens there), the unit keeping it and its name; when none keeps one, a
    chemical plant of the county (or the anchor enterprise), a unit and None (a fire)."""
    by_id = {e.id: e for e in ents}
    sources = session.scalars(
        scope.select(MajorHazardSource)
        .where(MajorHazardSource.enterprise_id.in_(list(by_id)))
        .order_by(MajorHazardSource.enterprise_id, MajorHazardSource.id)
    )
    for src in sources:
        for unit in src.units:
            for chem in unit.get("chemicals", []):
                known = chemical(chem.get("name", ""))
                ent = by_id[src.enterprise_id]
                if known is not None and known.name in TOXIC and ent.lng is not None:
                    return ent, unit.get("name") or src.name, chem["name"]
    chemical_plant = next(
        (e for e in ents if e.supervision_category == "hazardous_chemicals" and e.lng), anchor
    )
    unit = "地面生产系统" if chemical_plant.supervision_category == "coal_mine" else "成品仓库"
    return chemical_plant, unit, None
