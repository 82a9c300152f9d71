"""On-site inspections (现场检查) and their findings (检查发现).

An agency plans an inspection of an enterprise — from a drawn check or on its own — with a team
of at least two certified officers and the major-accident-hazard criteria of the enterprise's
category as its checklist; the team starts it on site, records findings and finishes it with a
summary. A finding becomes a hidden hazard (隐患) of the enterprise in one step, and each refers
to the other. Only the agency that planned an inspection acts on it. Writes are audited and
synced up; nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.errors import Conflict, Forbidden, Invalid
from anjian.core.iam.models import Role, User
from anjian.core.listing import in_state, of_enterprise_in
from anjian.core.paging import paged
from anjian.core.scope import Scope, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.enforcement.inspectors import conflicts_of, list_inspectors
from anjian.enforcement.models import (
    DrawCheck,
    EnforcementDocument,
    Finding,
    Inspection,
    PenaltyCase,
    enterprise_columns,
)
from anjian.enforcement.reference import checklist_for, criteria
from anjian.enforcement.rules.documents import DocumentKind
from anjian.enforcement.rules.inspections import (
    SOURCE_LABELS,
    STATE_LABELS,
    InspectionSource,
    InspectionState,
    can_record_findings,
    check_team,
    next_state,
)
from anjian.enforcement.schemas import (
    DocumentRead,
    FindingCreate,
    FindingRead,
    InspectionCreate,
    InspectionFinish,
    InspectionRead,
)
from anjian.enforcement.sync import FINDING_ENTITY, INSPECTION_ENTITY, add_synced
from anjian.enterprises.service import enterprise_in_scope, enterprise_names
from anjian.hidden_hazards.models import HiddenHazard
from anjian.hidden_hazards.schemas import HazardCreate
from anjian.hidden_hazards.service import report_hazard


def _audit(session: Session, actor: Actor, action: str, insp: Inspection, **detail: Any) -> None:
    detail = {"enterprise_id": insp.enterprise_id, **detail}
    audit_record(
        session,
        actor,
        f"enforcement.inspection.{action}",
        "enforcement_inspection",
        insp,
        detail=detail,
    )


def _official(user: User) -> None:
    if user.role != Role.OFFICIAL:
        raise Forbidden("只有监管人员可以执法检查 (inspections are for officials)")


def _drawn_check(session: Session, scope: Scope, check_id: int) -> DrawCheck:
    return scope.one(session, DrawCheck, check_id, field="draw_check_id")


@unscoped("one inspection per drawn check, whoever may see it")
def _inspection_of_check(session: Session, check_id: int) -> int | None:
    return session.scalar(select(Inspection.id).where(Inspection.draw_check_id == check_id))


def plan_inspection(
    session: Session, actor: Actor, scope: Scope, user: User, data: InspectionCreate
) -> Inspection:
    """Plan an inspection by the caller's agency (audited, synced)."""
    _official(user)
    enterprise_id, team, source, ref = data.enterprise_id, data.team, data.source, data.source_ref
    if data.draw_check_id is not None:
        check = _drawn_check(session, scope, data.draw_check_id)
        ensure_writable_here(check)
        if enterprise_id is not None and enterprise_id != check.enterprise_id:
            raise Invalid("企业与抽查结果不符 (not the drawn enterprise)", field="enterprise_id")
        if _inspection_of_check(session, check.id) is not None:
            raise Conflict("该抽查结果已安排检查 (an inspection of this check exists)")
        enterprise_id = check.enterprise_id
        team = team or [int(m["inspector_id"]) for m in check.team]
        source, ref = InspectionSource.DRAW, check.uid
    if enterprise_id is None:
        raise Invalid("请指定被检查企业 (enterprise_id is required)", field="enterprise_id")
    ent = enterprise_in_scope(session, scope, enterprise_id, field="enterprise_id")
    officers = [i for i in list_inspectors(session, scope) if i.active]
    conflicts = conflicts_of(session, (i.id for i in officers))
    conflicted = [
        i for i, rows in conflicts.items() if any(c.enterprise_id == ent.id for c in rows)
    ]
    chosen = check_team(team, {i.id: i.certificate_no for i in officers}, conflicted)
    by_id = {i.id: i for i in officers}
    insp = Inspection(
        **enterprise_columns(ent),
        agency_division=user.division_code,
        source=str(source),
        source_ref=ref,
        draw_check_id=data.draw_check_id,
        team=[
            {"inspector_id": i, "name": by_id[i].name, "certificate_no": by_id[i].certificate_no}
            for i in chosen
        ],
        checklist=[{**item, "result": ""} for item in checklist_for(ent.supervision_category)],
        planned_on=data.planned_on,
        state=InspectionState.PLANNED,
        summary="",
        created_by=actor.username,
        created_at=utcnow(),
        origin_node="",
    )
    add_synced(session, insp, entity=INSPECTION_ENTITY)
    _audit(session, actor, "plan", insp, source=insp.source, team=chosen)
    return insp


def get_inspection(session: Session, scope: Scope, inspection_id: int) -> Inspection:
    """One inspection in scope; absent and out of scope are the same 404."""
    return scope.one(session, Inspection, inspection_id)


def acting_on(session: Session, scope: Scope, user: User, inspection_id: int) -> Inspection:
    """The inspection, if the caller's agency planned it and this node keeps it."""
    _official(user)
    insp = get_inspection(session, scope, inspection_id)
    ensure_writable_here(insp)
    if user.division_code != insp.agency_division:
        raise Forbidden("只有组织检查的执法机关可以操作 (only the inspecting agency acts on it)")
    return insp


def start(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    inspection_id: int,
    at: datetime | None = None,
) -> Inspection:
    """The team is on site (检查开始), now or at ``at`` (recorded offline on a terminal)."""
    insp = acting_on(session, scope, user, inspection_id)
    insp.state = next_state(insp.state, InspectionState.ON_SITE)
    insp.started_at = at or utcnow()
    record_change(session, insp, entity=INSPECTION_ENTITY)
    _audit(session, actor, "start", insp)
    return insp


def finish(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    inspection_id: int,
    data: InspectionFinish,
    at: datetime | None = None,
) -> Inspection:
    """The inspection's conclusion and the checklist's results (检查结束), now or at ``at``."""
    insp = acting_on(session, scope, user, inspection_id)
    codes = {item["code"] for item in insp.checklist}
    unknown = sorted(set(data.results) - codes)
    if unknown:
        raise Invalid(f"检查表中没有这些条目: {unknown} (unknown checklist items)", field="results")
    insp.state = next_state(insp.state, InspectionState.FINISHED)
    insp.finished_at = at or utcnow()
    insp.summary = data.summary.strip()
    insp.checklist = [
        {**item, "result": data.results.get(item["code"], item.get("result", ""))}
        for item in insp.checklist
    ]
    record_change(session, insp, entity=INSPECTION_ENTITY)
    _audit(session, actor, "finish", insp, results=data.results)
    return insp


def add_finding(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    inspection_id: int,
    data: FindingCreate,
    *,
    uid: str | None = None,
    at: datetime | None = None,
) -> Finding:
    """Record a problem found on site, against a checklist item or not (with the uid and time a
    terminal gave it offline, when it comes from one)."""
    insp = acting_on(session, scope, user, inspection_id)
    if not can_record_findings(insp.state):
        raise Conflict(
            f"检查{STATE_LABELS[insp.state]}，只有检查中可以记录问题 (only on site)", field="state"
        )
    if data.item_code:
        if data.item_code not in {item["code"] for item in insp.checklist}:
            raise Invalid(f"检查表中没有条目 {data.item_code} (unknown item)", field="item_code")
        insp.checklist = [
            {**item, "result": "finding"} if item["code"] == data.item_code else item
            for item in insp.checklist
        ]
        record_change(session, insp, entity=INSPECTION_ENTITY)
    finding = Finding(
        inspection_id=insp.id,
        **enterprise_columns(insp),
        item_code=data.item_code,
        place=data.place.strip(),
        description=data.description.strip(),
        major=data.major,
        lng=data.lng,
        lat=data.lat,
        found_by=actor.username,
        found_at=at or utcnow(),
        origin_node="",
    )
    if uid is not None:
        finding.uid = uid
    add_synced(session, finding, entity=FINDING_ENTITY)
    _audit(session, actor, "finding", insp, finding_id=finding.id, major=finding.major)
    return finding


def get_finding(session: Session, scope: Scope, finding_id: int) -> Finding:
    """One finding in scope; absent and out of scope are the same 404."""
    return scope.one(session, Finding, finding_id)


def to_hazard(
    session: Session, actor: Actor, scope: Scope, user: User, finding_id: int
) -> tuple[Finding, HiddenHazard]:
    """Turn a finding into a hidden hazard of the enterprise (监管检查发现), linked both ways:
    the finding names the hazard and the hazard its source. Once only (409 after)."""
    finding = get_finding(session, scope, finding_id)
    insp = acting_on(session, scope, user, finding.inspection_id)
    if finding.hidden_hazard_id is not None:
        raise Conflict("该问题已转为隐患 (already a hidden hazard)")
    description = finding.description
    item = next((i for i in insp.checklist if i["code"] == finding.item_code), None)
    if item is not None:
        description += f"\n（依据：{item['text']}）"
    if finding.major:
        description += "\n（执法检查认定为重大事故隐患）"
    hz = report_hazard(
        session,
        actor,
        scope,
        HazardCreate(
            enterprise_id=finding.enterprise_id,
            place=finding.place,
            description=description[:4000],
            source="inspection",
            found_at=finding.found_at,
        ),
        source_ref=f"{FINDING_ENTITY}:{finding.uid}",
    )
    finding.hidden_hazard_id = hz.id
    record_change(session, finding, entity=FINDING_ENTITY)
    _audit(session, actor, "to_hazard", insp, finding_id=finding.id, hazard=hz.number)
    return finding, hz


def list_inspections(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    division: str | None = None,
    state: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[Inspection], int]:
    """Inspections in scope, the latest planned first, and their number."""
    stmt = of_enterprise_in(scope, Inspection, enterprise_id, division)
    stmt = in_state(
        stmt, Inspection.state, state, STATE_LABELS, f"未知检查状态: {state} (unknown state)"
    )
    order = (Inspection.planned_on.desc(), Inspection.id.desc())
    return paged(session, stmt, order, limit=limit, offset=offset)


@unscoped("documents of an inspection or a case already read in scope")
def documents_of(session: Session, of: Inspection | PenaltyCase) -> list[EnforcementDocument]:
    """The documents issued for an inspection or for a penalty case, in order of issue."""
    doc = EnforcementDocument
    column = doc.inspection_id if isinstance(of, Inspection) else doc.penalty_id
    stmt = select(doc).where(column == of.id, doc.deleted.is_(False))
    return list(session.scalars(stmt.order_by(doc.id)))


def present_documents(docs: list[EnforcementDocument]) -> list[DocumentRead]:
    """Documents as listed, with their kinds' titles."""
    return [
        DocumentRead.model_validate(d).model_copy(update={"kind_label": DocumentKind(d.kind).label})
        for d in docs
    ]


@unscoped("the findings of an inspection already read in scope")
def findings_of(session: Session, insp: Inspection) -> list[Finding]:
    """The findings of an inspection, in the order recorded."""
    stmt = select(Finding).where(Finding.inspection_id == insp.id, Finding.deleted.is_(False))
    return list(session.scalars(stmt.order_by(Finding.id)))


def present(session: Session, inspections: list[Inspection]) -> list[InspectionRead]:
    """Inspections as shown, with enterprise names, labels and their findings."""
    names = enterprise_names(session, (i.enterprise_id for i in inspections))
    out = []
    for insp in inspections:
        view = InspectionRead.model_validate(insp)
        view.enterprise_name = names.get(insp.enterprise_id, "")
        view.source_label = SOURCE_LABELS.get(insp.source, insp.source)
        view.state_label = STATE_LABELS.get(insp.state, insp.state)
        view.findings = [FindingRead.model_validate(f) for f in findings_of(session, insp)]
        view.documents = present_documents(documents_of(session, insp))
        out.append(view)
    return out


def criteria_note() -> str:
    """What the packaged criteria are and how far they are verified (for pages and the API)."""
    return str(criteria()["note"])
