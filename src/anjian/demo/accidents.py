"""Demo accidents (事故): this year's and last year's reports across the province, so the
statistics (一张表) have a 同比 to compare with — each filed through the service (graded,
audited, with its reporting chain), most passed up on time and a few late (迟报); the serious
ones investigated, some closed, one overdue, one under 挂牌督办 with corrective measures."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.accidents import investigations, measures, reporting
from anjian.accidents.models import INVESTIGATION_ENTITY, STEP_ENTITY, AccidentStep
from anjian.accidents.rules import ACCIDENT_TYPES
from anjian.accidents.schemas import (
    AccidentCreate,
    InvestigationCreate,
    InvestigationUpdate,
    MeasureCreate,
)
from anjian.core.audit.service import Actor
from anjian.core.iam.models import User
from anjian.core.scope import Scope
from anjian.core.sync.outbox import record_change
from anjian.db import utcnow
from anjian.demo.generate import mobile, person_name
from anjian.directives.schemas import SupervisionCreate
from anjian.enterprises.models import Enterprise

# (accident type, place) by supervision category
KINDS: dict[str, list[tuple[str, str]]] = {
    "coal_mine": [
        ("roof_fall", "综采工作面"),
        ("vehicle", "井下运输大巷"),
        ("gas_explosion", "掘进工作面"),
        ("water_inrush", "采空区附近巷道"),
        ("machinery", "主斜井皮带机"),
    ],
    "hazardous_chemicals": [
        ("poisoning_asphyxia", "反应釜检修现场"),
        ("fire", "罐区"),
        ("other_explosion", "合成车间"),
        ("burn", "装卸区"),
    ],
    "other": [
        ("machinery", "冲压车间"),
        ("fall_from_height", "厂房屋面"),
        ("lifting", "成品库"),
        ("electric_shock", "配电室"),
        ("object_strike", "施工现场"),
    ],
}


def _numbers(rng: random.Random) -> tuple[int, int, int, Decimal]:
    """Deaths, serious and minor injuries and loss as they are spread in practice: mostly one
    death or a few injuries (一般), now and then three or more deaths (较大)."""
    serious = rng.random() < 0.12
    deaths = rng.randint(3, 5) if serious else rng.choices([0, 1, 2], [3, 6, 1])[0]
    loss = rng.randint(20, 900) if serious else rng.randint(5, 200)
    return (
        deaths,
        rng.choice([0, 0, 1, 2]) + (2 if serious else 0),
        rng.choice([0, 1, 2, 3]),
        Decimal(loss * 10_000),
    )


FINDINGS = InvestigationUpdate(
    direct_causes="作业人员违章作业，现场安全防护措施缺失",
    indirect_causes="企业安全生产责任制不落实，安全培训和隐患排查不到位",
    nature="责任事故",
    responsibility="企业主要负责人、分管负责人对事故发生负有责任",
    penalties="建议对事故单位处以罚款，对相关责任人给予处分",
    measures="全面开展隐患排查治理，加强作业现场安全管理和教育培训",
)
ORDER = SupervisionCreate(
    requirements="依法依规从严查处，严肃追究相关责任人员责任，按期报送调查进展",
    due_date=date(2000, 1, 1),  # replaced by a date ahead of the demo's day
)
MEASURES = (
    ("停产整顿，开展安全隐患大排查", 30),
    ("完善安全生产责任制并组织全员培训考核", 60),
)


def load_accidents(
    session: Session,
    scope: Scope,
    enterprises: list[Enterprise],
    supervisor: User | None,
    seed: int,
    count: int = 36,
) -> int:
    """File ``count`` accidents this year and as many in the same months last year at
    enterprises of the demo, each with its chain stamped as officials would have (some late);
    investigate those with deaths (the older ones closed in time, a few left overdue), and let
    ``supervisor`` (an official above the lead) put one under 挂牌督办 with corrective
    measures. Returns how many were filed."""
    rng = random.Random(seed + 11)
    now = utcnow()
    days_so_far = max((now - datetime(now.year, 1, 1, tzinfo=UTC)).days, 1)
    made = 0
    supervised = supervisor is None
    for i in range(count * 2):
        last_year = i % 2 == 1
        ent = rng.choice(enterprises)
        kind = ent.supervision_category if ent.supervision_category in KINDS else "other"
        accident_type, place = rng.choice(KINDS[kind])
        occurred = now - timedelta(days=rng.randint(1, days_so_far), hours=rng.randint(0, 20))
        if last_year:
            occurred -= timedelta(days=365)
        deaths, serious, minor, loss = _numbers(rng)
        reporter = Actor(user_id=None, username=person_name(rng), division_code=ent.division_code)
        acc = reporting.report_accident(
            session,
            reporter,
            scope,
            AccidentCreate(
                occurred_at=occurred,
                known_at=occurred + timedelta(minutes=rng.randint(5, 40)),
                division_code=ent.division_code,
                place=f"{ent.name}{place}",
                accident_type=accident_type,
                reporter=reporter.username,
                reporter_phone=mobile(rng),
                enterprise_id=ent.id,
                lng=ent.lng,
                lat=ent.lat,
                deaths=deaths,
                serious_injuries=serious,
                minor_injuries=minor,
                direct_loss_cny=loss,
                summary=f"{place}作业时发生{ACCIDENT_TYPES[accident_type]}事故，现场已组织救援。",
                measures="启动应急预案，撤出受威胁人员，保护现场。",
            ),
        )
        made += 1
        _stamp_chain(session, acc.uid, late=rng.random() < 0.15, rng=rng)
        if deaths == 0:
            continue
        lead, _tier = investigations.lead_of(session, acc, None)
        official = Actor(user_id=None, username=person_name(rng), division_code=lead)
        inv = investigations.open_investigation(
            session, official, scope, acc.id, lead, InvestigationCreate(team=TEAM)
        )
        inv.started_at = occurred + timedelta(days=1)
        record_change(session, inv, entity=INVESTIGATION_ENTITY)
        if now - occurred > timedelta(days=75) and rng.random() < 0.9:
            investigations.update_investigation(session, official, scope, acc.id, FINDINGS)
            investigations.close_investigation(session, official, scope, acc.id)
            inv.closed_at = occurred + timedelta(days=rng.randint(35, 58))
            record_change(session, inv, entity=INVESTIGATION_ENTITY)
        elif not supervised and supervisor is not None and inv.closed_at is None:
            supervised = True
            order = ORDER.model_copy(update={"due_date": now.date() + timedelta(days=45)})
            investigations.supervise(session, _actor(supervisor), scope, supervisor, acc.id, order)
            for content, days in MEASURES:
                measure = MeasureCreate(
                    content=content,
                    responsible=ent.name,
                    due_date=now.date() + timedelta(days=days),
                )
                measures.add_measure(session, official, scope, acc.id, measure)
    return made


TEAM = "事故调查组：应急管理、公安、工会、纪检监察、行业主管部门"


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, division_code=user.division_code)


def _stamp_chain(session: Session, uid: str, *, late: bool, rng: random.Random) -> None:
    """What the officials did with the report: each agency received it and passed it up in
    time (or, for a late one, hours after its deadline)."""
    for step in session.scalars(select(AccidentStep).where(AccidentStep.accident_uid == uid)):
        step.received_at = step.receive_due_at - timedelta(minutes=rng.randint(10, 50))
        if step.report_due_at is not None:
            delay = timedelta(hours=rng.randint(1, 6) if late else 0, minutes=-rng.randint(10, 50))
            step.reported_at = step.report_due_at + delay
            step.reported_by = "值班员"
        record_change(session, step, entity=STEP_ENTITY)
