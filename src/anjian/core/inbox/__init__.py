"""The work inbox (待办): what waits on a user, gathered from every domain.

Core knows no domain. Each domain contributes sources in its own ``inbox.py``: one function
per kind of work, registered here by :func:`source`, that answers "how many are waiting on
this user, and which are the oldest" with the same scope filter as the domain's own list. The
wiring (``anjian.app``) imports those modules; the API (``GET /api/v1/inbox``) and the console's
home page read :func:`collect`. Adding a kind of work is one decorated function::

    @source("accidents.approval", "待批复的事故调查报告", AGENCY, order=75,
            empty="…", link="/accidents")
    def approvals_due(ctx: Context, limit: int) -> Found:
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from anjian.core.iam.deps import Context
from anjian.core.iam.models import Role
from anjian.core.paging import Total

AGENCY = "agency"  # officials (and administrators) of an agency: a jurisdiction
ENTERPRISE = "enterprise"  # users of one enterprise
ADMIN = "admin"  # the node's administrators: the agency's work and the accounts' upkeep
AUDIENCES = (AGENCY, ENTERPRISE, ADMIN)
# an administrator works in an agency too, so their inbox holds the agency's sources as well
_SEES = {AGENCY: {AGENCY}, ENTERPRISE: {ENTERPRISE}, ADMIN: {AGENCY, ADMIN}}
DEFAULT_LIMIT = 10  # items shown per section, the oldest first
MAX_LIMIT = 50


@dataclass(frozen=True)
class InboxItem:
    """One thing waiting: what it is, by name (``title``; ``detail`` names the enterprise,
    division or the like), the console page that deals with it, since when it waits and when it
    is due (a calendar date, or a moment for the clocks counted in hours)."""

    title: str
    url: str
    detail: str = ""
    since: datetime | None = None
    due_date: date | None = None
    due_at: datetime | None = None
    overdue: bool = False


@dataclass(frozen=True)
class Found:
    """What a source found: how many are waiting in all, and the oldest of them."""

    count: int
    items: list[InboxItem]


Fetch = Callable[[Context, int], Found]


@dataclass(frozen=True)
class Source:
    """A kind of work in the inbox: its key, title, who gets it, where it sits on the page,
    what an empty section means (and what to do next), the list page with all of them."""

    key: str
    title: str
    audiences: tuple[str, ...]
    order: int
    empty: str
    link: str
    fetch: Fetch
    live: bool = False


@dataclass(frozen=True)
class Section:
    """One source's part of a user's inbox."""

    key: str
    title: str
    count: int
    items: list[InboxItem]
    empty: str
    link: str
    live: bool = False  # the home page keeps it current from a stream (the alarm board's)

    @property
    def count_exact(self) -> bool:
        """False when ``count`` is an estimate (past the lists' count limit): shown as 约 N."""
        return getattr(self.count, "exact", True)


def total(sections: list[Section]) -> Total:
    """Everything waiting in ``sections``: an estimate when any of their counts is one."""
    return Total(sum(s.count for s in sections), exact=all(s.count_exact for s in sections))


_SOURCES: dict[str, Source] = {}


def source(
    key: str,
    title: str,
    *audiences: str,
    order: int,
    empty: str,
    link: str,
    live: bool = False,
) -> Callable[[Fetch], Fetch]:
    """Register the decorated function as the inbox source ``key`` for ``audiences``
    (:data:`AGENCY`, :data:`ENTERPRISE`, :data:`ADMIN`). The function gets the asking user's context and how
    many items to return, and returns :class:`Found`: the count of everything waiting and the
    oldest ``limit`` items, oldest (or most urgent) first, all within the user's scope.
    ``live``: the home page keeps the section current from a stream."""
    unknown = [a for a in audiences if a not in AUDIENCES]
    if not audiences or unknown:
        raise ValueError(f"inbox source {key!r}: audiences must be among {AUDIENCES}")

    def register(fetch: Fetch) -> Fetch:
        entry = Source(key, title, tuple(audiences), order, empty, link, fetch, live)
        have = _SOURCES.get(key)
        if have is not None and have.fetch.__qualname__ != fetch.__qualname__:
            raise ValueError(f"inbox source {key!r} registered twice")
        _SOURCES[key] = entry
        return fetch

    return register


def audience_of(ctx: Context) -> str:
    """Whose inbox this is: an enterprise's, an agency's or an administrator's."""
    if ctx.scope.is_enterprise:
        return ENTERPRISE
    return ADMIN if ctx.user.role == Role.ADMIN else AGENCY


def sources_for(audience: str) -> list[Source]:
    """The sources an audience sees, in page order."""
    sees = _SEES[audience]
    return sorted(
        (s for s in _SOURCES.values() if sees & set(s.audiences)), key=lambda s: (s.order, s.key)
    )


def collect(
    ctx: Context, limit: int = DEFAULT_LIMIT, keys: set[str] | None = None
) -> list[Section]:
    """The user's inbox: one section per source of their audience (``keys``: only those)."""
    limit = max(0, min(limit, MAX_LIMIT))
    sections = []
    for s in sources_for(audience_of(ctx)):
        if keys is not None and s.key not in keys:
            continue
        found = s.fetch(ctx, limit)
        count = found.count
        if not getattr(count, "exact", True) and count < len(found.items):
            count = Total(len(found.items), exact=False)  # an estimate below what is shown
        sections.append(Section(s.key, s.title, count, found.items, s.empty, s.link, s.live))
    return sections
