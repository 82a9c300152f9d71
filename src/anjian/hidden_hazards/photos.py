"""Photos of hidden hazards (隐患照片): kept as files at the node where the hazard is handled,
named by their SM3 digest; the hazard record carries their metadata (which travels up the
tiers; the files themselves stay here, like raw monitoring readings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from anjian.config import get_settings, private_dir
from anjian.core.audit.service import Actor, audit_record
from anjian.core.crypto import sm3
from anjian.core.errors import Invalid, NotFound
from anjian.core.scope import Scope
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.hidden_hazards.models import HiddenHazard
from anjian.hidden_hazards.service import get_hazard
from anjian.hidden_hazards.sync import HAZARD_ENTITY

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 20
# What a phone camera or a scanner produces, recognised by the file's first bytes, not its name.
_SIGNATURES = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
}


def _kind(data: bytes) -> tuple[str, str] | None:
    for magic, kind in _SIGNATURES.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ("image/webp", "webp")
    return None


def photo_dir() -> Path:
    return get_settings().data_dir / "uploads" / "hazards"


def add_photo(
    session: Session,
    actor: Actor,
    scope: Scope,
    hazard_id: int,
    filename: str,
    data: bytes,
) -> HiddenHazard:
    """Attach a JPEG, PNG or WebP photo (at most 10 MB, 20 per hazard) to a hazard of this
    node; the same photo twice is kept once."""
    hz = get_hazard(session, scope, hazard_id)
    ensure_writable_here(hz)
    if len(data) > MAX_PHOTO_BYTES:
        raise Invalid("照片不能超过 10 MB (photo larger than 10 MB)", field="file")
    kind = _kind(data)
    if kind is None:
        raise Invalid("只能上传 JPEG、PNG 或 WebP 照片 (JPEG, PNG or WebP only)", field="file")
    digest = sm3(data)
    if any(p.get("sm3") == digest for p in hz.photos):
        return hz
    if len(hz.photos) >= MAX_PHOTOS:
        raise Invalid(f"每条隐患最多 {MAX_PHOTOS} 张照片 (at most {MAX_PHOTOS})", field="file")
    media_type, ext = kind
    folder = private_dir(photo_dir())
    target = folder / f"{digest}.{ext}"
    if not target.exists():
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)  # never a half-written photo under its final name
    entry: dict[str, Any] = {
        "sm3": digest,
        "name": Path(filename or f"photo.{ext}").name[:200],
        "type": media_type,
        "size": len(data),
        "by": actor.username,
        "at": utcnow().isoformat(),
    }
    hz.photos = [*hz.photos, entry]  # a new list, so the change is seen
    record_change(session, hz, entity=HAZARD_ENTITY)
    audit_record(
        session,
        actor,
        "hidden_hazard.photo",
        "hidden_hazard",
        hz,
        detail={"number": hz.number, "sm3": digest, "size": len(data)},
    )
    return hz


def photo_file(session: Session, scope: Scope, hazard_id: int, digest: str) -> tuple[Path, str]:
    """The file of one photo of a hazard in scope, and its media type."""
    hz = get_hazard(session, scope, hazard_id)
    entry = next((p for p in hz.photos if p.get("sm3") == digest), None)
    if entry is None:
        raise NotFound("没有该照片 (no such photo)")
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[entry["type"]]
    path = photo_dir() / f"{digest}.{ext}"
    if not path.is_file():
        raise NotFound(
            f"照片保存在节点 {hz.origin_node}，本节点没有原图 (the file stays at the node that "
            "holds the hazard)"
        )
    return path, str(entry["type"])
