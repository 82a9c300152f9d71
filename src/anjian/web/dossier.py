"""一企一档: what an enterprise's page links to. Each domain's ``pages.py`` registers its records
of an enterprise (hidden hazards, risk points, major hazard sources, accidents, monitoring) with
a count and the link to its list filtered to that enterprise; the enterprise page shows them
all without importing the domains (they import it, as they register their synced entities)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy.orm import Session

from anjian.core.iam.models import Role
from anjian.core.inputs import INT32_MAX
from anjian.core.scope import Scope

# The ``enterprise`` query parameter of a list page: its records of one enterprise (the links of
# the enterprise's page); an enterprise out of scope is the same 404 as a missing one.
EnterpriseFilter = Annotated[
    int | None,
    Query(ge=1, le=INT32_MAX, description="企业 id：只列该企业的记录 (this enterprise's records)"),
]


@dataclass(frozen=True)
class RecordLink:
    """One kind of record of an enterprise: ``count(session, scope, enterprise_id)`` how many it
    has in the user's scope, ``href(enterprise_id)`` the list filtered to it, ``note`` a short
    figure beside the count (e.g. how many are still open), or "" for none; ``staff_only``: not
    shown to enterprise users (records whose pages are for agencies, e.g. enforcement)."""

    key: str
    label: str
    order: int
    count: Callable[[Session, Scope, int], int]
    href: Callable[[int], str]
    note: Callable[[Session, Scope, int], str] | None = None
    staff_only: bool = False


_LINKS: dict[str, RecordLink] = {}


def register(link: RecordLink) -> None:
    """Add (or replace, on re-import) a kind of record shown on the enterprise's page."""
    _LINKS[link.key] = link


def record_links(session: Session, scope: Scope, enterprise_id: int) -> list[dict[str, Any]]:
    """The enterprise's records by kind, in order: key, label, count, note and link."""
    return [
        {
            "key": link.key,
            "label": link.label,
            "count": link.count(session, scope, enterprise_id),
            "note": link.note(session, scope, enterprise_id) if link.note else "",
            "href": link.href(enterprise_id),
        }
        for link in sorted(_LINKS.values(), key=lambda lk: lk.order)
        if not (link.staff_only and _enterprise_user(scope))
    ]


def _enterprise_user(scope: Scope) -> bool:
    return scope.is_enterprise or scope.role == Role.ENTERPRISE
