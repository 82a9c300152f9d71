"""The audit entry of a step on an enforcement record: one naming scheme for officers,
inspections and penalty cases (``enforcement.<noun>.<action>`` on ``enforcement_<noun>``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record


def audit_step(
    session: Session, actor: Actor, noun: str, action: str, row: Any, detail: dict[str, Any]
) -> None:
    """Audit ``action`` on ``row``, an enforcement record of kind ``noun``, with ``detail``."""
    audit_record(
        session, actor, f"enforcement.{noun}.{action}", f"enforcement_{noun}", row, detail=detail
    )
