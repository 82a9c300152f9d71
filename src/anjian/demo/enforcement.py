"""Demo administrative enforcement (行政执法) at the first demo county: its officers, this year's
plan, a random draw (双随机) whose checks became inspections — some finished with findings and
documents, one on site, the rest planned — and penalty cases at different stages, each through
the services (numbered, audited, synced), so the enforcement pages have a year's work to show."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.clock import today_in_china
from anjian.core.iam.models import Role, User
from anjian.core.iam.users import create_user
from anjian.core.orgs.models import Organisation
from anjian.core.scope import Scope
from anjian.demo.generate import mobile, person_name
from anjian.enforcement import documents, draws, inspections, inspectors, penalties, plans
from anjian.enforcement.models import Inspection, PenaltyCase
from anjian.enforcement.rules.penalties import Discretion
from anjian.enforcement.schemas import (
    DocumentCreate,
    DrawCreate,
    FindingCreate,
    InspectionCreate,
    InspectionFinish,
    InspectorCreate,
    PenaltyCreate,
    PenaltyDecision,
    PenaltyNotice,
    PenaltyPayment,
    PlanCreate,
)

OFFICERS = 4  # the county official and three colleagues: two teams of two
DRAWN = 6  # enterprises drawn: four inspected already, two to come
FINDINGS = [
    ("主斜井皮带机", "皮带机机头防护罩缺失，转动部位无防护"),
    ("配电室", "配电柜前未铺设绝缘胶垫，警示标志缺失"),
    ("罐区", "可燃气体检测报警仪未定期检定"),
    ("生产车间", "安全出口被成品堆放堵塞"),
]


def _at(day: date, hour: int) -> datetime:
    """A Beijing working hour of ``day``, as UTC."""
    return datetime.combine(day, time(hour)).replace(tzinfo=UTC) - timedelta(hours=8)


def _officers(
    session: Session, official: User, agency: Organisation | None, rng: random.Random
) -> list[User]:
    """The county official and colleagues of the same agency (accounts nobody logs into: a
    random password; the demo's logins stay the tier officials)."""
    system = Actor(user_id=None, username="demo", division_code=official.division_code)
    team = [official]
    for n in range(1, OFFICERS):
        team.append(
            create_user(
                session,
                system,
                username=f"zf{official.division_code}{n}",
                password=secrets.token_urlsafe(24) + "#Aa1",
                role=Role.OFFICIAL,
                division_code=official.division_code,
                org_id=agency.id if agency is not None else None,
                display_name=person_name(rng),
                phone=mobile(rng),
            )
        )
    return team


def load_enforcement(
    session: Session, official: User, agency: Organisation | None, seed: int
) -> int:
    """Enforcement at ``official``'s county by its agency; how many inspections were made."""
    rng = random.Random(seed + 18)
    county = official.division_code
    actor = Actor(user_id=official.id, username=official.username, division_code=county)
    scope = Scope.for_division(official.id, Role.OFFICIAL.value, [county])
    today = today_in_china()
    for n, user in enumerate(_officers(session, official, agency, rng), start=1):
        cert = InspectorCreate(user_id=user.id, certificate_no=f"{county}{today.year}{n:04d}")
        inspectors.register_inspector(session, actor, scope, cert)
    plans.create_plan(
        session,
        actor,
        scope,
        official,
        PlanCreate(name=f"{today.year}年度执法检查计划", year=today.year),
    )
    draw = draws.make_draw(
        session,
        actor,
        scope,
        official,
        DrawCreate(
            division_code=county,
            enterprise_count=min(DRAWN, len(draws.population(session, scope, county, [])[0])),
            seed=f"demo-{county}-{today.year}",
        ),
    )
    checks = draws.checks_of(session, draw)
    # the last check is still to come, the one before is on site today, the others are done
    to_come = 1 if len(checks) > 1 else 0
    on_site = 1 if len(checks) > 2 else 0
    done = len(checks) - to_come - on_site
    made: list[Inspection] = []
    for n, check in enumerate(checks):
        day = today + timedelta(days=(n - done) * 5 if n >= done else -25 * (done - n))
        made.append(
            inspections.plan_inspection(
                session,
                actor,
                scope,
                official,
                InspectionCreate(draw_check_id=check.id, source="draw", planned_on=day),
            )
        )
    for n, insp in enumerate(made[: done + on_site]):
        day = insp.planned_on
        past = n < done  # the one on site started now, whatever the hour in Beijing
        inspections.start(
            session, actor, scope, official, insp.id, at=_at(day, 9) if past else None
        )
        place, description = FINDINGS[n % len(FINDINGS)]
        finding = inspections.add_finding(
            session,
            actor,
            scope,
            official,
            insp.id,
            FindingCreate(place=place, description=description, major=n == 0),
            at=_at(day, 10) if past else None,
        )
        if not past:
            break  # on site now
        results = {item["code"]: "ok" for item in insp.checklist}
        inspections.finish(
            session,
            actor,
            scope,
            official,
            insp.id,
            InspectionFinish(summary="现场检查结束，发现问题已当场告知企业负责人", results=results),
            at=_at(day, 16),
        )
        documents.issue_document(
            session, actor, scope, official, insp.id, DocumentCreate(kind="inspection_record")
        )
        documents.issue_document(
            session,
            actor,
            scope,
            official,
            insp.id,
            DocumentCreate(kind="rectification_order", deadline=today + timedelta(days=15)),
        )
        inspections.to_hazard(session, actor, scope, official, finding.id)
        if n == 0:
            _penalties(session, actor, scope, official, insp, today)
    return len(made)


def _penalties(
    session: Session, actor: Actor, scope: Scope, official: User, insp: Inspection, today: date
) -> None:
    """Two cases from the first inspection: one decided and paid, one with its notice served
    and the party's windows running."""

    def file(basis: str, facts: str, filed_on: date) -> PenaltyCase:
        """File a case of ``insp`` on the given basis."""
        data = PenaltyCreate(
            enterprise_id=insp.enterprise_id,
            inspection_id=insp.id,
            basis=basis,
            facts=facts,
            filed_on=filed_on,
        )
        return penalties.file_case(session, actor, scope, official, data)

    filed = insp.planned_on + timedelta(days=1)
    paid = file("SCF99", "未对安全设备进行经常性维护、保养，皮带机防护装置缺失", filed)
    fine = Decimal(20000)
    notice = PenaltyNotice(fine=fine, discretion=Discretion.ORDINARY, notified_on=filed)
    penalties.notify(session, actor, scope, official, paid.id, notice)
    decided = filed + timedelta(days=14)
    decision = PenaltyDecision(fine=fine, discretion=Discretion.ORDINARY, decided_on=decided)
    penalties.decide(session, actor, scope, official, paid.id, decision)
    payment = PenaltyPayment(paid_on=min(decided + timedelta(days=7), today), amount=fine)
    penalties.pay(session, actor, scope, official, paid.id, payment)
    open_case = file("SCF97", "未如实记录安全生产教育和培训情况", today - timedelta(days=2))
    notice = PenaltyNotice(fine=Decimal(30000), discretion=Discretion.LENIENT, notified_on=today)
    penalties.notify(session, actor, scope, official, open_case.id, notice)
