"""The duty desk (值班室) a request works at: duty is the agencies' business, and a desk is an
agency's division in the caller's jurisdiction (by default the caller's own)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.divisions.models import Division
from anjian.core.divisions.rules import is_valid_code
from anjian.core.errors import Forbidden, Invalid, NotFound
from anjian.core.scope import Scope


def staff_only(scope: Scope) -> None:
    """Refuse an enterprise user: rosters, receipts and handovers are the agencies' duty desks."""
    if scope.is_enterprise:
        raise Forbidden("企业用户不能办理值班值守 (duty desks are the agencies')")


def desk_of(session: Session, scope: Scope, actor: Actor, division_code: str | None) -> str:
    """The division of the desk a write is made at: ``division_code`` or the caller's own, an
    existing division of the caller's jurisdiction (403 naming ``division_code`` otherwise)."""
    staff_only(scope)
    code = division_code or actor.division_code or ""
    if session.get(Division, code) is None:
        raise Invalid(f"行政区划代码不存在: {code} (unknown division)", field="division_code")
    if not scope.covers_code(code):
        raise Forbidden(
            f"行政区划 {code} 不在您的管辖范围内，不能在其值班室登记 (outside your jurisdiction)",
            field="division_code",
        )
    return code


def desk_to_read(scope: Scope, actor: Actor, division: str | None) -> str:
    """The division of the desk a read asks about: ``division`` or the caller's own, in the
    caller's jurisdiction (the same 404 when it is malformed or outside)."""
    staff_only(scope)
    code = (division or actor.division_code or "").strip()
    if not is_valid_code(code):
        raise Invalid(
            f"行政区划代码应为 6 位数字: {code[:20]} (a division code has six digits)",
            field="division",
        )
    if not scope.covers_code(code):
        raise NotFound(
            f"行政区划不在管辖范围内: {code} (division outside your jurisdiction)",
            field="division",
        )
    return code
