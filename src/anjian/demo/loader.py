"""Loading the demo province into the database through the services (audited, synced).

The caller owns the unit of work: a failure anywhere leaves nothing half-loaded. A second run
finds the demo users and only reports their logins; it changes nothing (TOTP enrolments
included)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import Tier, covers, prefix_upper_bound, tier_of
from anjian.core.errors import Conflict, Invalid
from anjian.core.iam.models import ROLE_LABELS, Role, User
from anjian.core.iam.service import create_user, enrol_totp_directly
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.orgs.service import create_org
from anjian.core.scope import Scope, unscoped
from anjian.demo.accidents import load_accidents
from anjian.demo.checklists import choose, load_checklists
from anjian.demo.data import DEFAULT_PROVINCE, DEFAULT_SEED, PRESETS
from anjian.demo.emergency import load_emergency
from anjian.demo.emergency.common import official_at
from anjian.demo.enforcement import load_enforcement
from anjian.demo.generate import (
    Div,
    build_places,
    mobile,
    person_name,
    plan_enterprises,
    province_abbr,
    resolve_preset,
    short_province,
)
from anjian.demo.hazards import load_hazards
from anjian.demo.monitoring import load_monitoring, top_up_monitoring
from anjian.demo.risk import load_major_hazards, load_risk
from anjian.enterprises.models import Enterprise
from anjian.enterprises.schemas import EnterpriseCreate
from anjian.enterprises.service import create_enterprise

# Meets the complexity rule (three classes, ≥ 8 characters) and contains no demo username.
DEMO_PASSWORD = "Anjian#Demo2026"

# (phase label, done, total): lets the CLI draw a progress bar without the loader knowing Rich.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoLogin:
    """One demo account as printed for the person trying the platform."""

    username: str
    password: str
    role: str
    role_label: str
    display_name: str
    division_code: str
    division_name: str
    org_name: str
    mfa: bool


@dataclass(frozen=True)
class DemoResult:
    """What ``load_demo`` did: ``created`` is False when the demo was already there."""

    created: bool
    province_code: str
    province_name: str
    organisations: int
    enterprises: int
    logins: list[DemoLogin]
    monitoring_points: int = 0  # on a rerun: points added to a demo loaded before monitoring
    emergency_records: int = 0  # on a rerun: 应急管理 added to a demo loaded before it


def demo_contents(session: Session) -> list[tuple[str, str, int]]:
    """What the node's database holds, for the banner of ``anjian demo``: (Chinese label,
    English label, count) of each kind the demo loads, as it is now (a rerun loads nothing but
    still shows what is there)."""
    from sqlalchemy import func

    from anjian.accidents.models import Accident
    from anjian.emergency.duty.models import DutyShift
    from anjian.emergency.models import EmergencyEvent, EmergencyResource
    from anjian.emergency.plans.models import EmergencyDrill, EmergencyPlan
    from anjian.emergency.targets.models import ProtectionTarget
    from anjian.enforcement.models import Inspection, PenaltyCase
    from anjian.hidden_hazards.models import Checklist, HiddenHazard, InspectionTask
    from anjian.major_hazards.models import MajorHazardSource
    from anjian.monitoring.models import MonitoringPoint
    from anjian.risk.models import RiskPoint

    kinds: list[tuple[str, str, type[Any]]] = [
        ("机构", "organisations", Organisation),
        ("企业", "enterprises", Enterprise),
        ("风险点", "risk points", RiskPoint),
        ("隐患", "hidden hazards", HiddenHazard),
        ("排查清单", "checklists", Checklist),
        ("自查任务", "self-inspection tasks", InspectionTask),
        ("重大危险源", "major hazard sources", MajorHazardSource),
        ("事故", "accidents", Accident),
        ("执法检查", "inspections", Inspection),
        ("行政处罚", "penalty cases", PenaltyCase),
        ("监测点", "monitoring points", MonitoringPoint),
        ("应急资源", "emergency resources", EmergencyResource),
        ("应急预案", "emergency plans", EmergencyPlan),
        ("应急演练", "drills", EmergencyDrill),
        ("值班班次", "duty shifts", DutyShift),
        ("防护目标", "protection targets", ProtectionTarget),
        ("突发事件", "emergency events", EmergencyEvent),
        ("用户", "users", User),
    ]
    return [
        (zh, en, session.scalar(select(func.count()).select_from(model)) or 0)
        for zh, en, model in kinds
    ]


def _no_progress(_phase: str, _done: int, _total: int) -> None:
    return None


def check_jurisdiction(session: Session, province: str) -> Division:
    """The province's division, if the demo may be loaded into it on this node."""
    prov = session.get(Division, province)
    if prov is None or len(province) != 6 or tier_of(province) is not Tier.PROVINCE:
        raise Invalid(
            f"不是省级行政区划代码: {province} (--province must be a province code such as "
            f"{DEFAULT_PROVINCE})",
            field="province",
        )
    node = get_settings().node_division
    if not covers(node, province):
        node_div = session.get(Division, node)
        node_name = node_div.name if node_div is not None else node
        raise Invalid(
            f"本节点管辖范围为 {node_name}({node})，不包含 {prov.name}({province})；演示数据须位于"
            f"节点管辖范围内。请在国家级节点 (ANJIAN_NODE_DIVISION=000000) 或该省节点 "
            f"(ANJIAN_NODE_DIVISION={province}) 上载入 (this node's jurisdiction {node} does not "
            f"contain province {province}; load the demo on a national node or on that "
            f"province's node)",
            field="province",
        )
    return prov


@unscoped("demo loader: every demo account of the node, for the operator")
def demo_users(session: Session) -> list[User]:
    """The demo accounts already in the database, in creation order."""
    return list(session.scalars(select(User).where(User.is_demo.is_(True)).order_by(User.id)))


@unscoped("demo loader: reads and fills the node's own jurisdiction, for the operator")
def load_demo(
    session: Session,
    actor: Actor,
    *,
    province: str = DEFAULT_PROVINCE,
    enterprises: int = 300,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> DemoResult:
    """Load a realistic province: agencies at every tier, coal-mine inspection bureaus, rescue
    teams, ``enterprises`` enterprises in real counties and one demo user per tier. Nothing is
    added when demo users already exist: their logins are returned."""
    report = progress or _no_progress
    prov = check_jurisdiction(session, province)
    existing = demo_users(session)
    if existing:
        scope = Scope.for_division(None, Role.ADMIN.value, [get_settings().node_division])
        anchor_id = next((u.enterprise_id for u in existing if u.enterprise_id), None)
        focus = {u.division_code for u in existing if tier_of(u.division_code) is Tier.COUNTY}
        added = top_up_monitoring(session, scope, province, anchor_id, focus, seed, report)
        # a demo loaded before checklists existed gets them once (none when the anchor has some)
        if anchor_id is not None:
            in_province = session.scalars(
                select(Enterprise)
                .where(
                    Enterprise.division_code >= province[:2],
                    Enterprise.division_code < prefix_upper_bound(province[:2]),
                )
                .order_by(Enterprise.id)
            )
            load_checklists(
                session,
                scope,
                choose(in_province, anchor_id, focus, seed),
                seed,
                anchor_id=anchor_id,
            )
        # and a demo loaded before emergency management gets it once, at the first county
        emergency = 0
        anchor = session.get(Enterprise, anchor_id) if anchor_id is not None else None
        official = official_at(session, anchor.division_code) if anchor is not None else None
        if official is not None and anchor is not None:
            emergency = load_emergency(session, official, anchor.id, seed)
        logins = logins_of(session, existing)
        return DemoResult(
            False,
            prov.code,
            prov.name,
            0,
            0,
            logins,
            monitoring_points=added,
            emergency_records=emergency,
        )
    if enterprises < 1:
        raise Invalid("企业数量至少为 1 (--enterprises must be at least 1)", field="enterprises")

    rows = session.scalars(
        select(Division).where(
            Division.code >= province[:2], Division.code < prefix_upper_bound(province[:2])
        )
    )
    divisions = [Div(d.code, d.name, d.tier, d.parent_code, d.lng, d.lat) for d in rows]
    prov_div = next(d for d in divisions if d.code == province)
    fallback = PRESETS[province].coord_fallback if province in PRESETS else {}
    cities, places = build_places(prov_div, divisions, fallback)
    if not places:
        raise Invalid(f"{prov.name} 没有下级行政区划 (no counties in {province})")
    preset = resolve_preset(prov_div, cities, places)
    usernames = preset.usernames
    taken = session.scalars(select(User.username).where(User.username.in_(usernames.values())))
    taken_names = sorted(taken)
    if taken_names:
        raise Conflict(
            f"用户名已被非演示账户占用: {', '.join(taken_names)}；演示数据需要一个新的数据库 "
            f"(usernames taken by real accounts; load the demo into a fresh database)",
            field="username",
        )

    # --- organisations ---
    known = {(o.kind, o.division_code, o.name): o for o in session.scalars(select(Organisation))}
    created_orgs = done_orgs = 0
    short = short_province(prov.name)
    county_divs = [d for d in divisions if d.tier == "county"]
    org_total = 1 + len(cities) + len(county_divs) + 1 + len(preset.bureaus)
    org_total += len(preset.rescue_teams)

    def org(
        name: str,
        kind: OrgKind,
        division_code: str,
        parent: Organisation | None = None,
        area_codes: list[str] | None = None,
    ) -> Organisation:
        nonlocal created_orgs, done_orgs
        have = known.get((kind.value, division_code, name))
        if have is None:
            have = create_org(
                session,
                actor,
                name=name,
                kind=kind,
                division_code=division_code,
                parent_id=parent.id if parent is not None else None,
                area_codes=area_codes,
            )
            known[(kind.value, division_code, name)] = have
            created_orgs += 1
        done_orgs += 1
        report("机构 organisations", done_orgs, org_total)
        return have

    agencies: dict[str, Organisation] = {}
    # A municipality's department is a 局 (北京市应急管理局); a province's is a 厅.
    dept = "应急管理局" if prov.name.endswith("市") else "应急管理厅"
    agencies[province] = org(prov.name + dept, OrgKind.AGENCY, province)
    for city in cities:
        if city.name == prov.name:  # a municipality's 市辖区 layer: the same department
            agencies[city.code] = agencies[province]
            continue
        agencies[city.code] = org(
            f"{city.name}应急管理局", OrgKind.AGENCY, city.code, agencies[province]
        )
    place_by_code = {p.code: p for p in places}
    for d in sorted(county_divs, key=lambda d: d.code):
        parent = agencies.get(d.parent_code or "", agencies[province])
        region = place_by_code[d.code].region if d.code in place_by_code else d.name
        agencies[d.code] = org(f"{region}应急管理局", OrgKind.AGENCY, d.code, parent)
    inspection_name = f"国家矿山安全监察局{short}局"
    inspection = org(inspection_name, OrgKind.COAL_INSPECTION, province, area_codes=[province])
    bureaus: list[Organisation] = []
    for spec in preset.bureaus:
        bureau = org(
            inspection_name + spec.name,
            OrgKind.COAL_INSPECTION,
            spec.division_code,
            inspection,
            list(spec.area_codes),
        )
        bureaus.append(bureau)
    for name, code in preset.rescue_teams:
        org(name, OrgKind.RESCUE_TEAM, code, agencies[province])

    # --- enterprises ---
    county1, county2 = (tuple(preset.county_codes) * 2)[:2]
    plan = plan_enterprises(
        places,
        preset,
        province_name=prov.name,
        abbr=province_abbr(prov_div),
        count=enterprises,
        seed=seed,
        anchor_code=county1,
    )
    have_usccs = set(
        session.scalars(
            select(Enterprise.uscc).where(Enterprise.uscc.in_([p["uscc"] for p in plan]))
        )
    )
    scope = Scope.for_division(None, Role.ADMIN.value, [get_settings().node_division])
    created_ents = 0
    anchor: Enterprise | None = None
    ents: list[Enterprise] = []
    for i, data in enumerate(plan):
        if data["uscc"] in have_usccs:
            ent = session.scalar(select(Enterprise).where(Enterprise.uscc == data["uscc"]))
        else:
            ent = create_enterprise(session, actor, scope, EnterpriseCreate(**data))
            created_ents += 1
        ents.append(ent)
        if i == 0:
            anchor = ent
        report("企业 enterprises", i + 1, len(plan))
    assert anchor is not None

    # --- users ---
    rng = random.Random(seed + 1)
    home = next((b for b in bureaus if county1 in (b.area_codes or [])), bureaus[0])
    specs: list[tuple[str, Role, str, Organisation | None, int | None, str]] = [
        ("admin", Role.ADMIN, province, agencies[province], None, "系统管理员"),
        ("province", Role.OFFICIAL, province, agencies[province], None, ""),
        ("city", Role.OFFICIAL, preset.city_code, agencies.get(preset.city_code), None, ""),
        ("county1", Role.OFFICIAL, county1, agencies.get(county1), None, ""),
        ("county2", Role.OFFICIAL, county2, agencies.get(county2), None, ""),
        ("inspection", Role.OFFICIAL, home.division_code, home, None, ""),
        ("enterprise", Role.ENTERPRISE, anchor.division_code, None, anchor.id, ""),
    ]
    mfa_roles = set(get_settings().mfa_required_roles)
    users: list[User] = []
    for n, (key, role, division_code, organisation, enterprise_id, display) in enumerate(specs):
        username = usernames[key]
        if any(u.username == username for u in users):
            continue  # a generic province may name the same county twice
        user = create_user(
            session,
            actor,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            division_code=division_code,
            org_id=organisation.id if organisation is not None else None,
            enterprise_id=enterprise_id,
            display_name=display or person_name(rng),
            phone=mobile(rng),
            is_demo=True,
        )
        if role.value in mfa_roles:
            enrol_totp_directly(session, actor, user)
        users.append(user)
        report("用户 users", n + 1, len(specs))
    # --- dual prevention: the anchor (the enterprise user's) first, then a sample ---
    sample = [anchor, *rng.sample(ents, min(len(ents), 40))]
    sample = list(dict.fromkeys(sample))
    load_hazards(session, scope, sample, seed)
    load_risk(session, scope, sample, seed)
    load_major_hazards(session, scope, list(dict.fromkeys([*sample, *ents])), seed)
    supervisor = next((u for u in users if u.username == usernames["province"]), None)
    load_accidents(session, scope, sample, supervisor, seed)
    # --- self-inspection: checklists of the industry and their record of tasks ---
    chosen = choose(ents, anchor.id, {county1, county2}, seed)
    load_checklists(session, scope, chosen, seed, anchor_id=anchor.id)
    # --- administrative enforcement: the first county's officers, plan, draw and cases ---
    county_official = next((u for u in users if u.username == usernames["county1"]), None)
    if county_official is not None:
        load_enforcement(session, county_official, agencies.get(county1), seed)
        # --- emergency management: the first county's resources, plans, duty, events ---
        load_emergency(session, county_official, anchor.id, seed)
    # --- online monitoring: points at a sample, the demo counties' first ---
    points = load_monitoring(
        session, scope, ents, seed, anchor_id=anchor.id, focus={county1, county2}, progress=report
    )
    return DemoResult(
        True,
        prov.code,
        prov.name,
        created_orgs,
        created_ents,
        logins_of(session, users),
        monitoring_points=points,
    )


@unscoped("demo loader: names the demo accounts' own organisations and enterprises")
def logins_of(session: Session, users: list[User]) -> list[DemoLogin]:
    """The printable logins of demo users (the demo password is the same for all)."""
    org_ids = {u.org_id for u in users if u.org_id is not None}
    ent_ids = {u.enterprise_id for u in users if u.enterprise_id is not None}
    org_names = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
        ).all()
    )
    ent_names = dict(
        session.execute(
            select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ent_ids))
        ).all()
    )
    div_names = dict(
        session.execute(
            select(Division.code, Division.name).where(
                Division.code.in_({u.division_code for u in users})
            )
        ).all()
    )
    out = []
    for u in users:
        role = Role(u.role)
        org_name = org_names.get(u.org_id, "") if u.org_id else ""
        if u.enterprise_id:
            org_name = ent_names.get(u.enterprise_id, "")
        out.append(
            DemoLogin(
                username=u.username,
                password=DEMO_PASSWORD,
                role=role.value,
                role_label=ROLE_LABELS[role],
                display_name=u.display_name,
                division_code=u.division_code,
                division_name=div_names.get(u.division_code, ""),
                org_name=org_name,
                mfa=u.mfa_enabled,
            )
        )
    return out
