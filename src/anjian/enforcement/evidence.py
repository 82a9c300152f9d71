"""Evidence of findings (检查发现的证据): photos of the problem and the signatures of those who
confirmed it on site (被检查单位现场负责人, 执法人员). Files stay at the inspecting agency's
node (core.images); the finding carries their entries up the tiers. Attaching the same image
again changes nothing, so a terminal may retry an upload after a dropped connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.crypto import sm3
from anjian.core.errors import Invalid
from anjian.core.iam.models import User
from anjian.core.images import checked_image, image_file, store_image, upload_dir
from anjian.core.scope import Scope
from anjian.core.sync.outbox import record_change
from anjian.enforcement.inspections import acting_on, get_finding
from anjian.enforcement.models import Finding
from anjian.enforcement.rules.inspections import SIGNER_ROLES
from anjian.enforcement.sync import FINDING_ENTITY

MAX_PHOTOS = 20
MAX_SIGNATURES = 10
MAX_SIGNER = 50


def evidence_dir() -> Path:
    return upload_dir("findings")


def _writable(session: Session, scope: Scope, user: User, finding: Finding) -> None:
    """Evidence is added by the inspecting agency at the node that keeps the inspection."""
    acting_on(session, scope, user, finding.inspection_id)


def add_photo(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    finding: Finding,
    filename: str,
    data: bytes,
) -> Finding:
    """Attach a photo (JPEG, PNG or WebP, ≤ 10 MB, at most 20) to a finding."""
    _writable(session, scope, user, finding)
    kind = checked_image(data)
    digest = sm3(data)
    if any(p.get("sm3") == digest for p in finding.photos):
        return finding
    if len(finding.photos) >= MAX_PHOTOS:
        raise Invalid(f"每个问题最多 {MAX_PHOTOS} 张照片 (at most {MAX_PHOTOS})", field="file")
    entry = store_image(evidence_dir(), data, filename, actor.username, kind)
    finding.photos = [*finding.photos, entry]  # a new list, so the change is seen
    record_change(session, finding, entity=FINDING_ENTITY)
    audit_record(
        session,
        actor,
        "enforcement.finding.photo",
        "enforcement_finding",
        finding,
        detail={"inspection_id": finding.inspection_id, "sm3": digest, "size": len(data)},
    )
    return finding


def add_signature(
    session: Session,
    actor: Actor,
    scope: Scope,
    user: User,
    finding: Finding,
    signer: str,
    role: str,
    data: bytes,
) -> Finding:
    """Attach a signature drawn on site by ``signer`` as ``role`` (enterprise | inspector)."""
    _writable(session, scope, user, finding)
    if role not in SIGNER_ROLES:
        raise Invalid(f"签字人身份只能是 {'、'.join(SIGNER_ROLES)} (unknown role)", field="role")
    name = signer.strip()
    if not name or len(name) > MAX_SIGNER:
        raise Invalid(f"请填写签字人姓名（不超过 {MAX_SIGNER} 个字）(signer name)", field="signer")
    kind = checked_image(data, "签字", "file")
    digest = sm3(data)
    if any(s.get("sm3") == digest for s in finding.signatures):
        return finding
    if len(finding.signatures) >= MAX_SIGNATURES:
        raise Invalid(
            f"每个问题最多 {MAX_SIGNATURES} 个签字 (at most {MAX_SIGNATURES})", field="file"
        )
    entry = store_image(evidence_dir(), data, f"signature.{kind[1]}", actor.username, kind)
    finding.signatures = [*finding.signatures, {**entry, "signer": name, "role": role}]
    record_change(session, finding, entity=FINDING_ENTITY)
    audit_record(
        session,
        actor,
        "enforcement.finding.signature",
        "enforcement_finding",
        finding,
        detail={"inspection_id": finding.inspection_id, "signer": name, "role": role},
    )
    return finding


def evidence_file(
    session: Session, scope: Scope, finding_id: int, kind: str, digest: str
) -> tuple[Path, str]:
    """The file of one of a finding's ``photos`` or ``signatures`` (``kind``) in scope, and its
    media type."""
    finding = get_finding(session, scope, finding_id)
    entries: list[dict[str, Any]] = finding.photos if kind == "photos" else finding.signatures
    return image_file(evidence_dir(), entries, digest, finding.origin_node)
