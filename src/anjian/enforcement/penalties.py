"""Administrative penalty cases (行政处罚): filed (立案), notified (告知, with the 行政处罚告知书),
heard if the party asks in time (听证), decided (决定, with the 行政处罚决定书; never heavier than
the notice), paid with the surcharge of late payment, closed — each step on the clocks of
``rules.penalties``. Only the agency that filed a case acts on it. Writes are audited and synced
up; nothing here commits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.clock import today_in_china
from anjian.core.errors import Conflict, Forbidden, Invalid
from anjian.core.iam.models import Role, User
from anjian.core.listing import in_state, of_enterprise_in
from anjian.core.paging import paged
from anjian.core.records import copied
from anjian.core.scope import Scope
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.core.workdays import known
from anjian.db import utcnow
from anjian.enforcement.documents import issue, party_fields
from anjian.enforcement.inspections import documents_of, get_inspection, present_documents
from anjian.enforcement.models import PenaltyCase, enterprise_columns
from anjian.enforcement.reference import penalty_basis
from anjian.enforcement.rules import penalties as rules
from anjian.enforcement.rules.documents import DocumentKind
from anjian.enforcement.rules.penalties import PenaltyStage
from anjian.enforcement.schemas import (
    HearingRequest,
    PenaltyCreate,
    PenaltyDecision,
    PenaltyNotice,
    PenaltyPayment,
    PenaltyRead,
)
from anjian.enforcement.sync import PENALTY_ENTITY, add_synced
from anjian.enterprises.service import enterprise_in_scope, enterprise_names

FEN = Decimal(100)


def _fen(yuan: Decimal) -> int:
    return int((yuan * FEN).to_integral_value())


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / FEN).quantize(rules.YUAN)


def _audit(session: Session, actor: Actor, action: str, case: PenaltyCase, **detail: Any) -> None:
    detail = {"enterprise_id": case.enterprise_id, "stage": case.stage, **detail}
    audit_record(
        session, actor, f"enforcement.penalty.{action}", "enforcement_penalty", case, detail=detail
    )


def _not_future(day: date, field: str, earliest: date | None = None) -> date:
    if day > today_in_china():
        raise Invalid("日期不能晚于今天 (date in the future)", field=field)
    if earliest is not None and day < earliest:
        raise Invalid(f"日期不能早于 {earliest:%Y-%m-%d} (date too early)", field=field)
    return day


def file_case(
    session: Session, actor: Actor, scope: Scope, user: User, data: PenaltyCreate
) -> PenaltyCase:
    """File a case (立案) against an enterprise in scope, by the caller's agency."""
    if user.role != Role.OFFICIAL:
        raise Forbidden("只有监管人员可以立案 (penalty cases are for officials)")
    ent = enterprise_in_scope(session, scope, data.enterprise_id, field="enterprise_id")
    if data.inspection_id is not None:
        insp = get_inspection(session, scope, data.inspection_id)
        if insp.enterprise_id != ent.id:
            raise Invalid(
                "检查与企业不符 (not an inspection of this enterprise)", field="inspection_id"
            )
    basis = penalty_basis(data.basis)
    case = PenaltyCase(
        **enterprise_columns(ent),
        agency_division=user.division_code,
        inspection_id=data.inspection_id,
        basis_code=basis["code"],
        article=basis["article"],
        facts=data.facts.strip(),
        range_low_fen=_fen(basis["low"]),
        range_high_fen=_fen(basis["high"]),
        discretion="",
        stage=PenaltyStage.FILED,
        filed_on=_not_future(data.filed_on, "filed_on"),
        created_by=actor.username,
        created_at=utcnow(),
        origin_node="",
    )
    add_synced(session, case, entity=PENALTY_ENTITY)
    _audit(session, actor, "file", case, basis=case.basis_code)
    return case


def get_case(session: Session, scope: Scope, case_id: int) -> PenaltyCase:
    """One case in scope; absent and out of scope are the same 404."""
    return scope.one(session, PenaltyCase, case_id)


def _acting(session: Session, scope: Scope, user: User, case_id: int) -> PenaltyCase:
    case = get_case(session, scope, case_id)
    ensure_writable_here(case)
    if user.role != Role.OFFICIAL or user.division_code != case.agency_division:
        raise Forbidden("只有立案的执法机关可以办理 (only the agency that filed the case acts)")
    return case


def _range(case: PenaltyCase) -> tuple[Decimal, Decimal]:
    low, high = _yuan(case.range_low_fen), _yuan(case.range_high_fen)
    assert low is not None and high is not None
    return low, high


def _basis_lines(case: PenaltyCase) -> list[str]:
    low, high = _range(case)
    return [
        f"违法事实：{case.facts}",
        f"处罚依据：{case.article}（罚款幅度 {low}–{high} 元）",
    ]


def notify(
    session: Session, actor: Actor, scope: Scope, user: User, case_id: int, data: PenaltyNotice
) -> PenaltyCase:
    """Serve the notice (告知) of the proposed penalty, with the party's rights and their last
    days; issues the 行政处罚告知书."""
    case = _acting(session, scope, user, case_id)
    case.stage = rules.advance(PenaltyStage(case.stage), PenaltyStage.NOTIFIED)
    low, high = _range(case)
    fine = rules.check_fine(data.fine, low, high, data.discretion)
    case.notified_on = _not_future(data.notified_on, "notified_on", case.filed_on)
    case.proposed_fen, case.discretion = _fen(fine), str(data.discretion)
    statement = rules.statement_deadline(case.notified_on)
    hearing = rules.hearing_request_deadline(case.notified_on)
    record_change(session, case, entity=PENALTY_ENTITY)
    issue(
        session,
        actor,
        user,
        DocumentKind.PENALTY_NOTICE,
        case,
        {
            "fields": party_fields(session, scope, case.enterprise_id),
            "body": [
                *_basis_lines(case),
                f"拟作出的行政处罚：罚款人民币 {fine} 元（{data.discretion.label}）。",
                f"你单位有权进行陈述和申辩，请于 {statement:%Y年%m月%d日} 前提出；"
                f"有权要求听证，请于 {hearing:%Y年%m月%d日} 前提出（《行政处罚法》第六十四条）。"
                "逾期视为放弃上述权利。",
            ],
        },
    )
    _audit(session, actor, "notify", case, fine=str(fine), discretion=case.discretion)
    return case


def request_hearing(
    session: Session, actor: Actor, scope: Scope, user: User, case_id: int, data: HearingRequest
) -> PenaltyCase:
    """Record the party's request for a hearing (听证), if made in time."""
    case = _acting(session, scope, user, case_id)
    case.stage = rules.advance(PenaltyStage(case.stage), PenaltyStage.HEARING)
    assert case.notified_on is not None  # a notified case has its date
    requested = _not_future(data.requested_on, "requested_on", case.notified_on)
    last = rules.hearing_request_deadline(case.notified_on)
    if requested > last:
        raise Conflict(
            f"听证申请已超过期限（{last:%Y年%m月%d日}） (hearing requested too late)",
            field="requested_on",
        )
    case.hearing_requested_on = requested
    record_change(session, case, entity=PENALTY_ENTITY)
    _audit(session, actor, "hearing", case, requested_on=requested.isoformat())
    return case


def decide(
    session: Session, actor: Actor, scope: Scope, user: User, case_id: int, data: PenaltyDecision
) -> PenaltyCase:
    """Decide (决定) after the party's periods ran out or the hearing was held; never heavier
    than the notice (Art. 45). Issues the 行政处罚决定书."""
    case = _acting(session, scope, user, case_id)
    stage = PenaltyStage(case.stage)
    case.stage = rules.advance(stage, PenaltyStage.DECIDED)
    assert case.notified_on is not None and case.proposed_fen is not None
    decided = _not_future(data.decided_on, "decided_on", case.notified_on)
    last = max(
        rules.statement_deadline(case.notified_on), rules.hearing_request_deadline(case.notified_on)
    )
    if stage is PenaltyStage.NOTIFIED and decided <= last:
        raise Conflict(
            f"陈述申辩和听证申请期限至 {last:%Y年%m月%d日} 届满，届满后方可决定 "
            "(the party's periods have not run out)",
            field="decided_on",
        )
    low, high = _range(case)
    fine = rules.check_fine(data.fine, low, high, data.discretion)
    if _fen(fine) > case.proposed_fen:
        raise Invalid(
            f"决定的罚款不得高于告知的 {_yuan(case.proposed_fen)} 元（《行政处罚法》第四十五条） "
            "(no heavier than the notice)",
            field="fine",
        )
    served = _not_future(data.served_on or decided, "served_on", decided)
    case.decided_on, case.served_on = decided, served
    case.fine_fen, case.discretion = _fen(fine), str(data.discretion)
    due = rules.payment_deadline(served)
    record_change(session, case, entity=PENALTY_ENTITY)
    issue(
        session,
        actor,
        user,
        DocumentKind.PENALTY_DECISION,
        case,
        {
            "fields": party_fields(session, scope, case.enterprise_id),
            "body": [
                *_basis_lines(case),
                f"决定：罚款人民币 {fine} 元。",
                f"请于 {due:%Y年%m月%d日} 前缴纳罚款（自收到本决定书之日起十五日内）；"
                "逾期不缴纳的，每日按罚款数额的百分之三加处罚款，加处罚款的数额不超出罚款的数额"
                "（《行政处罚法》第六十七条、第七十二条）。",
                "如不服本决定，可以在收到本决定书之日起六十日内申请行政复议，"
                "或者在六个月内依法向人民法院提起行政诉讼。",
            ],
        },
    )
    _audit(session, actor, "decide", case, fine=str(fine), decided_on=decided.isoformat())
    return case


def pay(
    session: Session, actor: Actor, scope: Scope, user: User, case_id: int, data: PenaltyPayment
) -> PenaltyCase:
    """Record the payment: the fine and, when late, the surcharge (加处罚款), to the fen."""
    case = _acting(session, scope, user, case_id)
    case.stage = rules.advance(PenaltyStage(case.stage), PenaltyStage.PAID)
    assert case.served_on is not None and case.fine_fen is not None
    paid_on = _not_future(data.paid_on, "paid_on", case.served_on)
    fine = _yuan(case.fine_fen)
    assert fine is not None
    late = rules.late_payment(fine, rules.payment_deadline(case.served_on), paid_on)
    if data.amount.quantize(rules.YUAN) != fine + late:
        raise Invalid(
            f"应缴 {fine + late} 元（罚款 {fine} 元，加处罚款 {late} 元） (amount due)",
            field="amount",
        )
    case.paid_on, case.paid_fen, case.late_fee_fen = paid_on, _fen(data.amount), _fen(late)
    record_change(session, case, entity=PENALTY_ENTITY)
    _audit(session, actor, "pay", case, amount=str(data.amount), late_fee=str(late))
    return case


def close(session: Session, actor: Actor, scope: Scope, user: User, case_id: int) -> PenaltyCase:
    """Close the case (结案): once paid, or at once after a decision without a fine."""
    case = _acting(session, scope, user, case_id)
    fine = _yuan(case.fine_fen) or Decimal(0)
    case.stage = rules.advance(PenaltyStage(case.stage), PenaltyStage.CLOSED, fine=fine)
    case.closed_on = today_in_china()
    record_change(session, case, entity=PENALTY_ENTITY)
    _audit(session, actor, "close", case)
    return case


def list_cases(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    division: str | None = None,
    stage: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[PenaltyCase], int]:
    """Cases in scope, the latest filed first, and their number."""
    stmt = of_enterprise_in(scope, PenaltyCase, enterprise_id, division)
    stmt = in_state(
        stmt, PenaltyCase.stage, stage, rules.STAGE_LABELS, f"未知案件阶段: {stage} (unknown stage)"
    )
    order = (PenaltyCase.filed_on.desc(), PenaltyCase.id.desc())
    return paged(session, stmt, order, limit=limit, offset=offset)


def present(session: Session, cases: list[PenaltyCase]) -> list[PenaltyRead]:
    """Cases as shown, with their clocks and documents."""
    names = enterprise_names(session, (c.enterprise_id for c in cases))
    out = []
    for c in cases:
        low, high = _range(c)
        notified = c.notified_on
        decision_deadline = rules.decision_deadline(c.filed_on)
        out.append(
            copied(
                PenaltyRead,
                c,
                enterprise_name=names.get(c.enterprise_id, ""),
                range_low=low,
                range_high=high,
                proposed_fine=_yuan(c.proposed_fen),
                fine=_yuan(c.fine_fen),
                late_fee=_yuan(c.late_fee_fen),
                paid=_yuan(c.paid_fen),
                stage_label=PenaltyStage(c.stage).label,
                statement_deadline=rules.statement_deadline(notified) if notified else None,
                hearing_request_deadline=(
                    rules.hearing_request_deadline(notified) if notified else None
                ),
                decision_deadline=decision_deadline,
                decision_late=(c.decided_on or today_in_china()) > decision_deadline,
                payment_deadline=rules.payment_deadline(c.served_on) if c.served_on else None,
                calendar_provisional=notified is not None and not known(notified),
                documents=present_documents(documents_of(session, c)),
            )
        )
    return out
