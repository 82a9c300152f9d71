"""Enterprise registry use cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.enterprises.models import Enterprise


def find_by_uscc(session: Session, uscc: str) -> Enterprise | None:
    """The enterprise with this credit code, if registered (no scope: for operators' CLI)."""
    return session.scalar(select(Enterprise).where(Enterprise.uscc == uscc.strip().upper()))
