"""How the enforcement services audit what they do: ``enforcement.<noun>.<action>`` on an
``enforcement_<noun>`` record, in the division the record lies in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, Shown, audit_record


def audit_action(
    session: Session, actor: Actor, noun: str, action: str, record: Shown, detail: dict[str, Any]
) -> None:
    """Audit ``action`` on an enforcement ``record`` of the kind ``noun`` (inspection,
    inspector, penalty, document)."""
    audit_record(
        session, actor, f"enforcement.{noun}.{action}", f"enforcement_{noun}", record, detail=detail
    )
