"""Accident report use cases (事故报送): file a first report and its follow-ups, read and list
reports in scope.

The only place that writes accidents. The grade is computed here from the numbers (Order No.
493 Art. 3), never taken from the client. Every write stamps a new version into the outbox (the
report travels up the tiers as it is filed) and appends an audit record in the caller's
transaction; nothing here commits. Every read goes through :meth:`Scope.apply`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from anjian.accidents.models import Accident
from anjian.accidents.rules import ACCIDENT_TYPES, Grade, classify, follow_up_until, top_tier
from anjian.accidents.schemas import AccidentCreate, AccidentRead, FollowUp
from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit
from anjian.core.crypto import mask_phone
from anjian.core.divisions.models import Division
from anjian.core.errors import Conflict, Forbidden, Invalid, NotFound
from anjian.core.iam.service import field_cipher
from anjian.core.paging import paged
from anjian.core.scope import Scope, division_filter
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.enterprises.service import enterprise_in_scope

ENTITY = "accident"
FUTURE_SLACK = timedelta(minutes=5)  # clocks differ a little; an accident is not in the future


def _scoped(stmt: Select[Any], scope: Scope) -> Select[Any]:
    return scope.apply(
        stmt.where(Accident.deleted.is_(False)),
        division=Accident.division_code,
        enterprise=Accident.enterprise_id,
        category=Accident.supervision_category,
    )


def _grade(acc: Accident) -> None:
    c = classify(
        acc.deaths,
        acc.missing,
        acc.serious_injuries,
        acc.direct_loss_cny,
        missing_as_deaths=get_settings().accident_missing_as_deaths,
    )
    acc.grade, acc.grade_criterion, acc.provisional = int(c.grade), c.criterion, c.provisional


def report_accident(session: Session, actor: Actor, scope: Scope, data: AccidentCreate) -> Accident:
    """File a first report (快报) of an accident in scope, graded on the server (audited,
    synced up the tiers at once)."""
    now = utcnow()
    if data.occurred_at > now + FUTURE_SLACK:
        raise Invalid(
            "事故发生时间不能晚于当前时间 (occurred_at is in the future)", field="occurred_at"
        )
    known_at = data.known_at or data.occurred_at
    if known_at < data.occurred_at:
        raise Invalid("接报时间不能早于发生时间 (known_at before occurred_at)", field="known_at")
    if session.get(Division, data.division_code) is None:
        raise Invalid(f"行政区划代码不存在: {data.division_code}", field="division_code")
    category, unit_name, industry = "", data.unit_name or "", data.industry_code or ""
    if data.enterprise_id is not None:
        ent = enterprise_in_scope(session, scope, data.enterprise_id, field="enterprise_id")
        category = ent.supervision_category
        unit_name = unit_name or ent.name
        industry = industry or ent.industry_code
    if not scope.covers(
        division_code=data.division_code,
        enterprise_id=data.enterprise_id,
        category=category or None,
    ):
        raise Forbidden(
            "事故发生地不在您的管辖范围内 (the place of the accident is outside your jurisdiction)",
            field="division_code",
        )
    acc = Accident(
        division_code=data.division_code,
        enterprise_id=data.enterprise_id,
        supervision_category=category,
        unit_name=unit_name,
        industry_code=industry,
        occurred_at=data.occurred_at,
        known_at=known_at,
        place=data.place,
        lng=data.lng,
        lat=data.lat,
        accident_type=data.accident_type,
        deaths=data.deaths,
        missing=data.missing,
        serious_injuries=data.serious_injuries,
        minor_injuries=data.minor_injuries,
        direct_loss_cny=data.direct_loss_cny,
        summary=data.summary,
        measures=data.measures,
        reporter=data.reporter,
        reporter_phone_enc=field_cipher().encrypt(data.reporter_phone),
        reported_at=now,
        origin_node="",
    )
    _grade(acc)
    record_change(session, acc, entity=ENTITY)
    audit(
        session,
        actor,
        "accident.report",
        object_type="accident",
        object_id=str(acc.id),
        division_code=acc.division_code,
        detail={
            "grade": acc.grade,
            "deaths": acc.deaths,
            "missing": acc.missing,
            "serious_injuries": acc.serious_injuries,
            "direct_loss_cny": str(acc.direct_loss_cny),
        },
    )
    return acc


def get_accident(session: Session, scope: Scope, accident_id: int) -> Accident:
    """One accident in scope; absent and out of scope are the same 404."""
    found = session.scalars(
        _scoped(select(Accident), scope).where(Accident.id == accident_id)
    ).first()
    if found is None:
        raise NotFound(
            f"事故不存在或不在管辖范围内: {accident_id} (no such accident in your jurisdiction)"
        )
    return found


def list_accidents(
    session: Session,
    scope: Scope,
    *,
    division: str | None = None,
    grade: int | None = None,
    accident_type: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[Accident], int]:
    """Accidents in scope, newest first, with the number of matches."""
    stmt = _scoped(select(Accident), scope)
    if division:
        stmt = stmt.where(division_filter(Accident.division_code, division))
    if grade is not None:
        if grade not in (1, 2, 3, 4):
            raise Invalid(f"事故等级应为 1–4: {grade} (grade must be 1 to 4)", field="grade")
        stmt = stmt.where(Accident.grade == grade)
    if accident_type:
        if accident_type not in ACCIDENT_TYPES:
            raise Invalid(f"事故类别无效: {accident_type} (unknown type)", field="accident_type")
        stmt = stmt.where(Accident.accident_type == accident_type)
    return paged(
        session, stmt, (Accident.occurred_at.desc(), Accident.id.desc()), limit=limit, offset=offset
    )


def present(session: Session, accidents: list[Accident]) -> list[AccidentRead]:
    """The user-facing views: grade names, division names, the reporter's phone masked."""
    codes = sorted({a.division_code for a in accidents})
    names = dict(
        session.execute(select(Division.code, Division.name).where(Division.code.in_(codes))).all()
    )
    cipher = field_cipher()
    return [
        AccidentRead(
            **{
                name: getattr(a, name)
                for name in AccidentRead.model_fields
                if hasattr(Accident, name) and name not in ("grade",)
            },
            grade=a.grade,
            grade_label=Grade(a.grade).label,
            division_name=names.get(a.division_code, ""),
            accident_type_label=ACCIDENT_TYPES.get(a.accident_type, a.accident_type),
            report_to=top_tier(Grade(a.grade)),
            reporter_phone=mask_phone(cipher.decrypt(a.reporter_phone_enc)),
        )
        for a in accidents
    ]


_NUMBERS = ("deaths", "missing", "serious_injuries", "minor_injuries", "direct_loss_cny")


def follow_up(
    session: Session, actor: Actor, scope: Scope, accident_id: int, data: FollowUp
) -> Accident:
    """Record a follow-up report (续报) within the window (30 days; 7 for road traffic and
    fire): the numbers sent replace the earlier ones and the grade is computed again — if it
    rises, the report must now go further up. Audited with the numbers and grade before and
    after, synced; 409 after the window."""
    acc = get_accident(session, scope, accident_id)
    ensure_writable_here(acc)
    until = follow_up_until(acc.occurred_at, acc.accident_type)
    if utcnow() > until:
        raise Conflict(
            f"续报期限已过 ({until:%Y-%m-%d}) (the follow-up window has closed)",
            field="occurred_at",
        )
    before = {name: getattr(acc, name) for name in _NUMBERS} | {"grade": acc.grade}
    for name in _NUMBERS:
        value = getattr(data, name)
        if value is not None:
            setattr(acc, name, value)
    _grade(acc)
    acc.follow_ups += 1
    record_change(session, acc, entity=ENTITY)
    after = {name: getattr(acc, name) for name in _NUMBERS} | {"grade": acc.grade}
    audit(
        session,
        actor,
        "accident.follow_up",
        object_type="accident",
        object_id=str(acc.id),
        division_code=acc.division_code,
        detail={
            "before": {k: str(v) for k, v in before.items()},
            "after": {k: str(v) for k, v in after.items()},
            "note": data.note,
            "grade_rose": acc.grade < before["grade"],
        },
    )
    return acc
