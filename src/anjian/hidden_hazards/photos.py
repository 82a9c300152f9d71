"""Photos of hidden hazards (隐患照片): kept as files at the node where the hazard is handled,
named by their SM3 digest; the hazard record carries their metadata (which travels up the
tiers; the files themselves stay here, like raw monitoring readings)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.crypto import sm3
from anjian.core.errors import Invalid
from anjian.core.images import MAX_IMAGE_BYTES, checked_image, image_file, store_image, upload_dir
from anjian.core.scope import Scope
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.hidden_hazards.models import HiddenHazard
from anjian.hidden_hazards.service import get_hazard
from anjian.hidden_hazards.sync import HAZARD_ENTITY

MAX_PHOTO_BYTES = MAX_IMAGE_BYTES
MAX_PHOTOS = 20


def photo_dir() -> Path:
    return upload_dir("hazards")


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
    kind = checked_image(data)
    digest = sm3(data)
    if any(p.get("sm3") == digest for p in hz.photos):
        return hz
    if len(hz.photos) >= MAX_PHOTOS:
        raise Invalid(f"每条隐患最多 {MAX_PHOTOS} 张照片 (at most {MAX_PHOTOS})", field="file")
    entry = store_image(photo_dir(), data, filename, actor.username, kind)
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
    return image_file(photo_dir(), hz.photos, digest, hz.origin_node)
