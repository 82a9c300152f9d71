"""Enforcement documents (执法文书): 现场检查记录, 责令限期整改指令书, 整改复查意见书 and 强制措施决定书 of an
inspection, 行政处罚告知书 and 行政处罚决定书 of a penalty case (``penalties``), numbered in the
agency's series of the kind and year without gaps or duplicates (``core.counters``), recorded as
printed and drawn as .docx on request. Writes are audited and synced up; nothing here commits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit_record
from anjian.core.clock import CST, today_in_china
from anjian.core.counters import next_number
from anjian.core.divisions.service import division_names
from anjian.core.errors import Conflict, Invalid
from anjian.core.iam.models import User
from anjian.core.orgs.models import Organisation
from anjian.core.scope import Scope, unscoped
from anjian.db import utcnow
from anjian.enforcement.inspections import acting_on, documents_of, findings_of
from anjian.enforcement.models import (
    EnforcementDocument,
    Finding,
    Inspection,
    PenaltyCase,
    enterprise_columns,
)
from anjian.enforcement.rules.documents import (
    DocumentKind,
    check_prefix,
    document_number,
    measure_last_day,
)
from anjian.enforcement.rules.inspections import SIGNER_ROLES, InspectionState
from anjian.enforcement.schemas import DocumentCreate
from anjian.enforcement.sync import DOCUMENT_ENTITY, add_synced
from anjian.enterprises.service import enterprise_in_scope

RESULT_LABELS = {"ok": "符合", "finding": "不符合", "na": "不适用", "": "未检查"}


def agency_prefix(session: Session, division: str) -> str:
    """The agency's document prefix: configured (``ANJIAN_ENFORCEMENT_DOCUMENT_PREFIXES``), or the
    division's name and 应急, e.g. 应县应急."""
    configured = get_settings().enforcement_document_prefixes.get(division)
    if configured:
        return check_prefix(configured)
    name = division_names(session, [division]).get(division, division)
    return check_prefix(f"{name}应急")


@unscoped("the agency's own organisation, for the document's header")
def _agency_name(session: Session, user: User) -> str:
    if user.org_id is not None:
        name = session.scalar(select(Organisation.name).where(Organisation.id == user.org_id))
        if name:
            return str(name)
    division = division_names(session, [user.division_code]).get(user.division_code, "")
    return f"{division}应急管理局"


def _when(value: datetime | None) -> str:
    return f"{value.astimezone(CST):%Y年%m月%d日 %H:%M}" if value else ""


def _day(value: date) -> str:
    return f"{value:%Y年%m月%d日}"


def _confirmed(finding: Finding) -> str:
    """Who confirmed a finding on site by signing it (照片、签字 stay with the finding)."""
    signers = "、".join(
        f"{SIGNER_ROLES.get(sig['role'], '')}{sig['signer']}" for sig in finding.signatures
    )
    photos = f"，现场照片 {len(finding.photos)} 张" if finding.photos else ""
    return (
        f"（{signers}现场签字确认{photos}）" if signers else (f"（{photos[1:]}）" if photos else "")
    )


def party_fields(session: Session, scope: Scope, enterprise_id: int) -> list[list[str]]:
    """The party's lines of a document: the enterprise, its address and legal representative."""
    ent = enterprise_in_scope(session, scope, enterprise_id)
    return [
        ["被检查单位", ent.name],
        ["地址", ent.address],
        ["法定代表人（负责人）", ent.legal_rep],
    ]


def _content(
    session: Session, scope: Scope, insp: Inspection, kind: DocumentKind, data: DocumentCreate
) -> dict[str, Any]:
    """What the document says (without its header), checked against where the inspection is."""
    team = "、".join(f"{m['name']}（执法证号 {m['certificate_no']}）" for m in insp.team)
    fields = [*party_fields(session, scope, insp.enterprise_id), ["检查人员", team]]
    findings = findings_of(session, insp)
    if kind is DocumentKind.INSPECTION_RECORD:
        if insp.state == InspectionState.PLANNED:
            raise Conflict("检查尚未开始，不能出具现场检查记录 (not started)", field="state")
        fields.append(["检查时间", f"{_when(insp.started_at)} 至 {_when(insp.finished_at)}"])
        items = [
            f"{i['code']} {i['text']}：{RESULT_LABELS.get(i.get('result', ''), '')}"
            for i in insp.checklist
        ]
        body = ["检查情况：" + (insp.summary or "（检查中）")]
        body += [f"发现问题：{f.place}，{f.description}{_confirmed(f)}" for f in findings]
        return {"fields": fields, "items": items, "body": body}
    if kind is DocumentKind.RECTIFICATION_ORDER:
        if not findings:
            raise Conflict("本次检查没有发现问题，无需责令整改 (no findings)", field="kind")
        if data.deadline is None or data.deadline < today_in_china():
            raise Invalid("请给出不早于今天的整改期限 (deadline: today or later)", field="deadline")
        body = [
            f"经查，你单位存在下列问题，依据《中华人民共和国安全生产法》，现责令你单位于"
            f"{_day(data.deadline)}前整改完毕，达到有关法律法规规章和国家标准或者行业标准的要求。"
        ]
        return {
            "fields": fields,
            "body": body,
            "items": [f"{f.place}：{f.description}" for f in findings],
            "deadline": data.deadline.isoformat(),
        }
    if kind is DocumentKind.COMPULSORY_MEASURE:
        return _measure_content(insp, fields, findings, data)
    # 整改复查意见书: after a rectification order of this inspection.
    orders = [d for d in documents_of(session, insp) if d.kind == DocumentKind.RECTIFICATION_ORDER]
    if not orders:
        raise Conflict("尚未责令整改，无从复查 (no rectification order to review)", field="kind")
    if not data.opinion.strip():
        raise Invalid("请填写复查意见 (opinion is required)", field="opinion")
    body = [
        f"本机关于{_day(today_in_china())}对你单位执行《{orders[-1].number}》的情况进行了复查。"
    ]
    return {"fields": fields, "body": [*body, "复查意见：" + data.opinion.strip()]}


def _measure_content(
    insp: Inspection, fields: list[list[str]], findings: list[Any], data: DocumentCreate
) -> dict[str, Any]:
    """A 强制措施决定书: on the grounds of the inspection's findings, the measure on its subject,
    and for a seal or seizure its last day (行政强制法 Art. 25)."""
    if insp.state == InspectionState.PLANNED:
        raise Conflict("检查尚未开始，不能采取强制措施 (not started)", field="state")
    if not findings:
        raise Conflict("本次检查没有发现问题，无从采取强制措施 (no findings)", field="kind")
    if data.measure is None:
        raise Invalid(
            "请选择强制措施：查封、扣押或责令暂时停产停业 (measure is required)", field="measure"
        )
    if not data.subject.strip():
        raise Invalid("请写明强制措施的对象 (subject is required)", field="subject")
    today = today_in_china()
    last = measure_last_day(data.measure, today)
    body = [
        "经查，你单位存在下列问题，依据《中华人民共和国安全生产法》第六十五条第一款，本机关决定对"
        f"{data.subject.strip()}{data.measure.label}"
        + (
            f"，期限自{_day(today)}起至{_day(last)}止。"
            if last is not None
            else "，至重大事故隐患排除并经本机关审查同意后方可恢复。"
        ),
        "如不服本决定，可以依法申请行政复议或者提起行政诉讼。",
    ]
    return {
        "fields": fields,
        "body": body,
        "items": [f"{f.place}：{f.description}" for f in findings],
        "measure": str(data.measure),
        "until": last.isoformat() if last is not None else None,
    }


def issue_document(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    inspection_id: int,
    data: DocumentCreate,
) -> EnforcementDocument:
    """Issue a document of an inspection by the inspecting agency, numbered next in its series."""
    insp = acting_on(session, scope, user, inspection_id)
    kind = DocumentKind(data.kind)
    return issue(
        session,
        actor,
        user,
        kind,
        insp,
        _content(session, scope, insp, kind, data),
    )


def issue(
    session: Session,
    actor: Actor,
    user: User,
    kind: DocumentKind,
    of: Inspection | PenaltyCase,
    content: dict[str, Any],
) -> EnforcementDocument:
    """Number and record a document of an inspection or a penalty case (``of``) whose body is
    ``content`` (fields, body, items): the next
    number of the agency's series of the kind this year, the agency's header and the signature
    lines added (audited, synced)."""
    year = today_in_china().year
    serial = next_number(session, f"enforcement:{of.agency_division}:{kind}:{year}")
    number = document_number(agency_prefix(session, of.agency_division), kind, year, serial)
    agency = _agency_name(session, user)
    doc = EnforcementDocument(
        kind=str(kind),
        agency_division=of.agency_division,
        year=year,
        serial=serial,
        number=number,
        inspection_id=of.id if isinstance(of, Inspection) else of.inspection_id,
        penalty_id=of.id if isinstance(of, PenaltyCase) else None,
        **enterprise_columns(of),
        content={
            "agency": agency,
            "title": kind.label,
            "number": number,
            **content,
            "signatures": ["执法人员（签名）：", "当事人（签名）：", f"{agency}（印章）"],
        },
        issued_by=actor.username,
        issued_at=utcnow(),
        origin_node="",
    )
    add_synced(session, doc, entity=DOCUMENT_ENTITY)
    detail = {
        "number": number,
        "kind": str(kind),
        "inspection_id": doc.inspection_id,
        "penalty_id": doc.penalty_id,
    }
    audit_record(
        session, actor, "enforcement.document.issue", "enforcement_document", doc, detail=detail
    )
    return doc


def get_document(session: Session, scope: Scope, document_id: int) -> EnforcementDocument:
    """One document in scope; absent and out of scope are the same 404."""
    return scope.one(session, EnforcementDocument, document_id)
