"""Major hazard source register use cases (重大危险源登记、辨识分级、备案).

The only place that writes major hazard sources. Saving a source identifies and grades its units
by GB 18218-2018 (:func:`~anjian.major_hazards.rules.assess_units`) and stores the units as given
together with each unit's result, so every tier reads the figures the enterprise registered
without recomputing them. Filing (备案, Order 40 Art. 23–24) is a small state machine: the
enterprise (or an official) submits, an agency official whose jurisdiction covers the source files
it under a number or returns it with a reason; new units after filing mean a new identification,
and the filing must be renewed.

Every write stamps a new version into the outbox and appends an audit record in the caller's
transaction; nothing here commits. Every read goes through the user's scope
(``scope.select``/``scope.one``); a source outside the scope is reported as not found.

Monitoring points (监测监控点) will link to a source by its ``uid`` from their own table (a later
issue); :class:`~anjian.major_hazards.schemas.SourceRead` keeps ``monitoring_points`` for them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.errors import Conflict, Forbidden, Invalid
from anjian.core.paging import paged
from anjian.core.scope import Scope, division_filter
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.enterprises.service import enterprise_in_scope, enterprise_names, is_enterprise_user
from anjian.major_hazards import rules
from anjian.major_hazards.models import MajorHazardSource
from anjian.major_hazards.rules import GRADE_LABELS, UnitAssessment
from anjian.major_hazards.schemas import (
    FILING_STATES,
    RESPONSIBLE_ROLES,
    FilingState,
    SourceCreate,
    SourceRead,
    SourceSummary,
    SourceUnitCreate,
    SourceUpdate,
    SummaryCount,
    UnitRead,
)
from anjian.major_hazards.sync import MAJOR_HAZARD_ENTITY

# action → (states it may start from, state it leads to)
FILING_STEPS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({FilingState.UNFILED, FilingState.RETURNED}), FilingState.SUBMITTED),
    "file": (frozenset({FilingState.SUBMITTED}), FilingState.FILED),
    "return": (frozenset({FilingState.SUBMITTED}), FilingState.RETURNED),
}
_ACTION_ZH = {"submit": "提交备案", "file": "予以备案", "return": "退回"}
REFILE_REASON = (
    "单元或化学品变更，已重新辨识分级，须向原备案部门重新备案"
    "（《危险化学品重大危险源监督管理暂行规定》第二十三条）"
)
# Fields whose change means a new identification and grading.
_ASSESSED = ("units", "people_within_500m")


# --- identification and grading -------------------------------------------------------------------


def _lead(results: list[UnitAssessment]) -> UnitAssessment:
    """The unit whose figures stand for the source: the major unit with the highest R, or
    (none major) the unit nearest to its threshold."""
    major = [u for u in results if u.is_major]
    if major:
        return max(major, key=lambda u: u.R)
    return max(results, key=lambda u: u.sum_q_over_Q)


def _assess(src: MajorHazardSource, units: list[dict[str, Any]], people: int) -> None:
    """Identify and grade ``units`` (as dumped from :class:`SourceUnitCreate`) and store them with
    their results on ``src``. An unknown chemical is a 422 naming ``units.0.chemicals.1.name``."""
    parsed = [SourceUnitCreate.model_validate(unit) for unit in units]
    results = rules.assess_units([unit.resolved(people) for unit in parsed])
    lead = _lead(results)
    src.units = [
        {**unit, "result": UnitRead.of(result).model_dump()}
        for unit, result in zip(units, results, strict=True)
    ]
    src.people_within_500m = people
    src.is_major = any(u.is_major for u in results)
    src.sum_q_over_q = lead.sum_q_over_Q
    src.r_value = lead.R
    src.grade = lead.grade if src.is_major else None
    src.assessed_at = utcnow()


def _given(units: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The units as the user gave them (without the stored results), for comparison."""
    return [{k: v for k, v in unit.items() if k != "result"} for unit in units or []]


# --- reads -----------------------------------------------------------------------------------------


def get_source(session: Session, scope: Scope, source_id: int) -> MajorHazardSource:
    """One source in scope; absent and out of scope are the same 404."""
    return scope.one(session, MajorHazardSource, source_id)


def list_sources(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    division: str | None = None,
    grade: int | None = None,
    filing_state: str | None = None,
    major: bool | None = None,
    q: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[MajorHazardSource], int]:
    """The register in scope, highest grade first (then not-major sources), with the number of
    matches. ``q``: the source's name contains it."""
    stmt = scope.select(MajorHazardSource)
    if enterprise_id is not None:
        stmt = stmt.where(MajorHazardSource.enterprise_id == enterprise_id)
    if division:
        stmt = stmt.where(division_filter(MajorHazardSource.division_code, division))
    if grade is not None:
        if grade not in GRADE_LABELS:
            raise Invalid(f"等级应为 1–4: {grade} (grade must be 1 to 4)", field="grade")
        stmt = stmt.where(MajorHazardSource.grade == grade)
    if filing_state:
        if filing_state not in FILING_STATES:
            raise Invalid(
                f"未知备案状态: {filing_state}，应为 {'、'.join(FILING_STATES)} 之一 "
                "(unknown filing state)",
                field="filing_state",
            )
        stmt = stmt.where(MajorHazardSource.filing_state == filing_state)
    if major is not None:
        stmt = stmt.where(MajorHazardSource.is_major.is_(major))
    if q and q.strip():
        stmt = stmt.where(MajorHazardSource.name.contains(q.strip(), autoescape=True))
    ungraded_last = case((MajorHazardSource.grade.is_(None), 1), else_=0)
    order = (
        ungraded_last,
        MajorHazardSource.grade,
        MajorHazardSource.r_value.desc(),
        MajorHazardSource.id.desc(),
    )
    return paged(session, stmt, order, limit=limit, offset=offset)


def present(session: Session, sources: list[MajorHazardSource]) -> list[SourceRead]:
    """The user-facing views of ``sources``."""
    names = enterprise_names(session, {s.enterprise_id for s in sources})
    return [
        SourceRead.of(
            s,
            enterprise_name=names.get(s.enterprise_id, ""),
            return_reason=s.filing_note if s.filing_state == FilingState.RETURNED else "",
        )
        for s in sources
    ]


def summary(session: Session, scope: Scope) -> SourceSummary:
    """Sources in scope by grade, and the major ones by filing state."""
    rows = session.execute(
        scope.select(
            MajorHazardSource,
            MajorHazardSource.is_major,
            MajorHazardSource.grade,
            MajorHazardSource.filing_state,
            func.count(),
        ).group_by(
            MajorHazardSource.is_major, MajorHazardSource.grade, MajorHazardSource.filing_state
        )
    ).all()
    by_grade = dict.fromkeys(GRADE_LABELS, 0)
    by_state = dict.fromkeys(FILING_STATES, 0)
    total = major = 0
    for is_major, grade, state, count in rows:
        total += count
        if not is_major:
            continue
        major += count
        if grade in by_grade:
            by_grade[grade] += count
        by_state[state] = by_state.get(state, 0) + count
    return SourceSummary(
        total=total,
        major=major,
        not_major=total - major,
        grades=[
            SummaryCount(code=str(g), label=GRADE_LABELS[g], count=n) for g, n in by_grade.items()
        ],
        filing=[
            SummaryCount(code=s, label=FILING_STATES.get(s, s), count=n)
            for s, n in by_state.items()
        ],
    )


# --- writes ----------------------------------------------------------------------------------------


def _audit(
    session: Session, actor: Actor, action: str, src: MajorHazardSource, **detail: Any
) -> None:
    audit_record(
        session,
        actor,
        f"major_hazard.{action}",
        MAJOR_HAZARD_ENTITY,
        src,
        detail={"name": src.name, **detail},
    )


def create_source(
    session: Session, actor: Actor, scope: Scope, data: SourceCreate
) -> MajorHazardSource:
    """Register a source of an enterprise in scope (its own, for an enterprise user), identified
    and graded on the way in (audited, synced)."""
    ent = enterprise_in_scope(session, scope, data.enterprise_id, field="enterprise_id")
    now = utcnow()
    src = MajorHazardSource(
        enterprise_id=ent.id,
        division_code=ent.division_code,
        supervision_category=ent.supervision_category,
        name=data.name,
        responsible_main=data.responsible_main,
        responsible_technical=data.responsible_technical,
        responsible_operational=data.responsible_operational,
        filing_state=FilingState.UNFILED,
        filing_no="",
        filed_by="",
        created_at=now,
        origin_node="",
    )
    _assess(src, [unit.model_dump() for unit in data.units], data.people_within_500m)
    record_change(session, src, entity=MAJOR_HAZARD_ENTITY)
    _audit(
        session,
        actor,
        "create",
        src,
        enterprise_id=ent.id,
        is_major=src.is_major,
        grade=src.grade,
        r=round(src.r_value, 4),
    )
    return src


def _writable(session: Session, scope: Scope, source_id: int) -> MajorHazardSource:
    src = get_source(session, scope, source_id)
    ensure_writable_here(src)
    return src


def update_source(
    session: Session, actor: Actor, scope: Scope, source_id: int, data: SourceUpdate
) -> MajorHazardSource:
    """Change the fields sent. New units or head count are identified and graded again; if the
    source was submitted or filed, its filing is void and must be renewed (``unfiled``, and the
    audit record says why). A no-op change writes nothing."""
    src = _writable(session, scope, source_id)
    changes = data.changes()
    changed = [
        name
        for name, value in changes.items()
        if (_given(src.units) if name == "units" else getattr(src, name)) != value
    ]
    if not changed:
        return src
    detail: dict[str, Any] = {"fields": sorted(changed)}
    for name in changed:
        if name not in _ASSESSED:
            setattr(src, name, changes[name])
    if any(name in _ASSESSED for name in changed):
        was = (src.is_major, src.grade)
        _assess(
            src,
            changes.get("units", _given(src.units)),
            changes.get("people_within_500m", src.people_within_500m),
        )
        detail["reassessed"] = {
            "from": {"is_major": was[0], "grade": was[1]},
            "to": {"is_major": src.is_major, "grade": src.grade},
        }
        if src.filing_state in (FilingState.SUBMITTED, FilingState.FILED):
            detail["filing_reset"] = {
                "from": src.filing_state,
                "filing_no": src.filing_no,
                "reason": REFILE_REASON,
            }
            src.filing_state, src.filing_no, src.filed_at, src.filed_by = (
                FilingState.UNFILED,
                "",
                None,
                "",
            )
    record_change(session, src, entity=MAJOR_HAZARD_ENTITY)
    _audit(session, actor, "update", src, **detail)
    return src


def _transition(src: MajorHazardSource, action: str) -> str:
    allowed, target = FILING_STEPS[action]
    if src.filing_state not in allowed:
        now = FILING_STATES.get(src.filing_state, src.filing_state)
        need = "、".join(FILING_STATES[s] for s in sorted(allowed))
        raise Conflict(
            f"备案状态为「{now}」，不能{_ACTION_ZH[action]}（须为「{need}」） "
            f"(cannot {action} a source whose filing is {src.filing_state})",
            field="filing_state",
        )
    return target


def submit_source(
    session: Session, actor: Actor, scope: Scope, source_id: int
) -> MajorHazardSource:
    """提交备案: the enterprise (or an official for it) submits a major source with its three
    responsible persons named; a returned filing may be submitted again."""
    src = _writable(session, scope, source_id)
    target = _transition(src, "submit")
    if not src.is_major:
        raise Conflict(
            "未构成重大危险源，无需备案 (not a major hazard source: nothing to file)",
            field="is_major",
        )
    for name, label in RESPONSIBLE_ROLES.items():
        if not getattr(src, name).strip():
            raise Conflict(
                f"备案前须填写包保责任人：{label} (name the {name.removeprefix('responsible_')} "
                "responsible person before filing)",
                field=name,
            )
    before = src.filing_state
    src.filing_state = target
    record_change(session, src, entity=MAJOR_HAZARD_ENTITY)
    _audit(session, actor, "submit", src, **{"from": before, "to": target, "grade": src.grade})
    return src


def _agency_step(
    session: Session, scope: Scope, source_id: int, action: str
) -> tuple[MajorHazardSource, str]:
    src = get_source(session, scope, source_id)
    if is_enterprise_user(scope):
        raise Forbidden(
            "备案由负有安全生产监督管理职责的部门办理 (filing is decided by the agency)"
        )
    ensure_writable_here(src)
    return src, _transition(src, action)


def file_source(
    session: Session, actor: Actor, scope: Scope, source_id: int, filing_no: str
) -> MajorHazardSource:
    """予以备案: an agency official whose jurisdiction covers the source files it."""
    src, target = _agency_step(session, scope, source_id, "file")
    number = filing_no.strip()
    if not number:
        raise Invalid("请填写备案编号 (give the filing number)", field="filing_no")
    src.filing_state, src.filing_no, src.filing_note = target, number, ""
    src.filed_by, src.filed_at = actor.username, utcnow()
    record_change(session, src, entity=MAJOR_HAZARD_ENTITY)
    _audit(
        session,
        actor,
        "file",
        src,
        **{"from": FilingState.SUBMITTED, "to": target, "filing_no": number},
    )
    return src


def return_filing(
    session: Session, actor: Actor, scope: Scope, source_id: int, reason: str
) -> MajorHazardSource:
    """退回: the agency sends the filing back with what to correct; it may be resubmitted."""
    src, target = _agency_step(session, scope, source_id, "return")
    why = reason.strip()
    if not why:
        raise Invalid("请说明退回原因 (say why)", field="reason")
    src.filing_state, src.filing_note = target, why[:500]
    record_change(session, src, entity=MAJOR_HAZARD_ENTITY)
    _audit(
        session,
        actor,
        "return",
        src,
        **{"from": FilingState.SUBMITTED, "to": target, "reason": why},
    )
    return src


def enterprises_with_major_sources(session: Session, scope: Scope, division: str) -> set[int]:
    """The enterprises in scope, in ``division`` or below, that run at least one major hazard
    source (重大危险源): an enforcement draw weights them as 重大."""
    stmt = (
        scope.select(MajorHazardSource, MajorHazardSource.enterprise_id)
        .where(MajorHazardSource.is_major.is_(True))
        .where(division_filter(MajorHazardSource.division_code, division))
        .distinct()
    )
    return set(session.scalars(stmt))
