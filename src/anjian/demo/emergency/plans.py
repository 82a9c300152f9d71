"""Demo emergency plans (应急预案) and drills (演练): the county's 总体预案 in force with a drill
to come and its 危化品专项预案 near its revision; enterprise plans made by the enterprises — the
first filed (备案) by the county with a drill held and evaluated, the next awaiting review, the
third still to file."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.clock import today_in_china
from anjian.core.iam.models import User
from anjian.core.scope import Scope, unscoped
from anjian.demo.emergency.common import County, actor_of
from anjian.emergency.models import EmergencyResource
from anjian.emergency.plans import drills
from anjian.emergency.plans import service as plans
from anjian.emergency.plans.schemas import (
    DrillCreate,
    DrillEvaluation,
    DrillRecord,
    PlanCreate,
    PlanReview,
    PlanRole,
    ResponseLevel,
)
from anjian.emergency.rules.events import EVENT_TYPES
from anjian.enterprises.models import Enterprise

LEVELS = [
    (1, "造成或可能造成 30 人以上死亡（含失踪），或 100 人以上重伤，或 1 亿元以上直接经济损失"),
    (2, "造成或可能造成 10 人以上 30 人以下死亡，或 50 人以上 100 人以下重伤"),
    (3, "造成或可能造成 3 人以上 10 人以下死亡，或 10 人以上 50 人以下重伤"),
    (4, "造成或可能造成 3 人以下死亡，或 10 人以下重伤，或超出事发单位处置能力"),
]
ROLES = [
    ("总指挥", "县人民政府县长：统一领导、指挥应急处置工作"),
    ("副总指挥", "分管副县长、应急管理局局长：协助总指挥，负责现场指挥协调"),
    ("综合协调组", "应急管理局：信息汇总报送、协调各工作组"),
    ("抢险救援组", "消防救援大队、专业救援队伍：人员搜救、险情排除"),
    ("医疗救治组", "卫生健康局：伤员救治、卫生防疫"),
    ("治安警戒组", "公安局：现场警戒、交通管制、人员疏散"),
    ("后勤保障组", "发展和改革局、财政局：物资、资金和生活保障"),
    ("新闻宣传组", "县委宣传部：信息发布、舆情引导"),
]
ENTERPRISE_LEVELS = [
    (4, "事故可由企业自身力量控制，未影响厂外"),
    (3, "事故超出企业处置能力或影响厂外，需请求县级支援"),
]
ENTERPRISE_ROLES = [
    ("应急总指挥", "总经理：启动和终止企业应急响应，指挥处置"),
    ("副总指挥", "安全副总经理：组织现场处置，向属地应急管理局报告"),
    ("抢险救援组", "专职应急救援队：堵漏、灭火、搜救"),
    ("警戒疏散组", "保卫部：设置警戒区，疏散厂区及周边人员"),
    ("医疗救护组", "卫生所：现场急救，联系医院转运"),
    ("物资保障组", "供应部：调配应急物资和装备"),
]


def _levels(rows: list[tuple[int, str]]) -> list[ResponseLevel]:
    return [ResponseLevel(level=n, trigger=t) for n, t in rows]


def _roles(rows: list[tuple[str, str]]) -> list[PlanRole]:
    return [PlanRole(role=a, duty=b) for a, b in rows]


def _event_types(ent: Enterprise) -> list[str]:
    if ent.supervision_category in ("coal_mine", "non_coal_mine"):
        return ["mine", "production_accident"]
    if ent.supervision_category == "hazardous_chemicals":
        return ["chemical_leak", "fire_explosion"]
    return ["production_accident", "fire_explosion"]


def load_plans(
    session: Session,
    c: County,
    res: dict[str, EmergencyResource],
    ents: list[Enterprise],
    chem: str | None,
) -> int:
    """The county's 总体预案 (in force, its drill to come) and 危化品专项预案 (revision due
    soon); enterprise plans: the first filed (with a drill held and evaluated), the next
    awaiting review, the third still to file (报备)."""
    today, r = today_in_china(), c.region
    agency_ids = [res[k].id for k in ("hazmat", "mine", "social", "store", "square", "hospital")]
    overall = plans.create_plan(
        session,
        c.actor,
        c.scope,
        PlanCreate(
            title=f"{r}突发事件总体应急预案",
            category="overall",
            division_code=c.code,
            owner=f"{r}人民政府",
            event_types=[t for t in EVENT_TYPES if t != "other"],
            response_levels=_levels(LEVELS),
            roles=_roles(ROLES),
            resource_ids=agency_ids,
            summary="规定全县突发事件的组织指挥体系、预警、应急响应、后期处置和保障措施。",
            issued_on=today - timedelta(days=300),
        ),
    )
    plans.create_plan(
        session,
        c.actor,
        c.scope,
        PlanCreate(
            title=f"{r}危险化学品生产安全事故专项应急预案",
            category="special",
            division_code=c.code,
            owner=f"{r}应急管理局",
            event_types=["chemical_leak", "fire_explosion"],
            response_levels=_levels(LEVELS[2:]),
            roles=_roles(ROLES[:4]),
            resource_ids=[res["hazmat"].id, res["store"].id],
            summary="危险化学品泄漏、火灾、爆炸事故的分级响应、现场处置和人员疏散。",
            issued_on=_years_ago(today, 3) + timedelta(days=40),  # its revision due soon
        ),
    )
    drills.create_drill(
        session,
        c.actor,
        c.scope,
        DrillCreate(
            title=f"{r}危险化学品泄漏事故综合应急演练",
            plan_id=overall.id,
            form="live",
            scale="comprehensive",
            organiser=f"{r}应急管理局",
            place=ents[0].name,
            planned_on=today + timedelta(days=18),
        ),
    )
    return 3 + _enterprise_plans(session, c, res, ents[:3], chem)


def _years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@unscoped("demo loader: the demo enterprise user of the anchor enterprise, if any")
def _enterprise_user(session: Session, enterprise_id: int) -> User | None:
    return session.scalars(
        select(User)
        .where(User.enterprise_id == enterprise_id, User.is_demo.is_(True))
        .order_by(User.id)
        .limit(1)
    ).first()


def _enterprise_plans(
    session: Session,
    c: County,
    res: dict[str, EmergencyResource],
    ents: list[Enterprise],
    chem: str | None,
) -> int:
    """Each enterprise's 综合应急预案, made by its own (the demo enterprise user where there is
    one): the first filed by the county, with its drill; the second submitted; the third a
    draft."""
    today = today_in_china()
    made = 0
    for n, ent in enumerate(ents):
        user = _enterprise_user(session, ent.id)
        if user is not None:
            actor = actor_of(user)
            scope = Scope.for_enterprise(user.id, ent.id)
        else:
            actor = Actor(user_id=None, username=ent.safety_manager, division_code=c.code)
            scope = Scope.for_enterprise(None, ent.id)
        own = [res[k].id for k in ("site_team", "site_store") if res[k].enterprise_id == ent.id]
        if "anchor_team" in res and res["anchor_team"].enterprise_id == ent.id:
            own.append(res["anchor_team"].id)
        plan = plans.create_plan(
            session,
            actor,
            scope,
            PlanCreate(
                title=f"{ent.name}生产安全事故应急预案",
                category="overall",
                division_code=c.code,
                enterprise_id=ent.id,
                owner=ent.name,
                event_types=_event_types(ent),
                response_levels=_levels(ENTERPRISE_LEVELS),
                roles=_roles(ENTERPRISE_ROLES),
                resource_ids=own,
                summary="综合应急预案：风险分析、应急组织机构及职责、响应分级、处置程序和保障措施。",
                issued_on=today - timedelta(days=(200, 15, 5)[n]),
            ),
        )
        made += 1
        if n == 2:
            continue  # still to file (待报备)
        plans.submit_plan(session, actor, scope, plan.id)
        if n == 1:
            continue  # awaiting the county's review (待审查)
        plans.review_plan(
            session,
            c.actor,
            c.scope,
            plan.id,
            PlanReview(decision="filed", opinion="要素齐全，符合要求，予以备案。"),
        )
        made += _drill_held(session, actor, scope, ent, plan.id, chem)
    return made


def _drill_held(
    session: Session, actor: Actor, scope: Scope, ent: Enterprise, plan_id: int, chem: str | None
) -> int:
    """A drill of the enterprise's plan held two months ago and evaluated."""
    what = f"{chem}泄漏" if chem else "火灾"
    drill = drills.create_drill(
        session,
        actor,
        scope,
        DrillCreate(
            title=f"{what}现场处置演练",
            plan_id=plan_id,
            form="live",
            scale="single",
            organiser=ent.name,
            place=f"{ent.name}厂区",
            planned_on=today_in_china() - timedelta(days=62),
        ),
    )
    drills.record_drill(
        session,
        actor,
        scope,
        drill.id,
        DrillRecord(
            held_on=today_in_china() - timedelta(days=62),
            participants=46,
            record=f"模拟{what}：报警、启动响应、警戒疏散、堵漏处置、洗消和恢复，历时 50 分钟。",
        ),
    )
    drills.evaluate_drill(
        session,
        actor,
        scope,
        drill.id,
        DrillEvaluation(
            rating="good",
            problems="疏散集合点清点人数用时偏长；部分员工佩戴空气呼吸器不熟练。",
            improvements="每季度开展一次个体防护装备实操培训；完善集合点点名流程。",
        ),
    )
    return 1
