"""The public page of random draws (双随机一公开): anyone, without logging in, sees the draws
this node made — when, where, the categories, the enterprises drawn (name and division) and how
many officers inspect each — with the seed and the population hash, and the node's own
recomputation of the draw. Published without personal data: no officer's name, certificate
number or phone, and nothing of the people behind the enterprises.

What a page may show is built here as :class:`PublicDraw` from the draw and its checks, so a
template never holds a team; requests are rate limited per client address
(``ANJIAN_PUBLIC_RATE_PER_IP`` a minute, one limiter per application)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.divisions.service import division_names
from anjian.core.iam.deps import DB, client_ip
from anjian.core.paging import PageNumber
from anjian.core.ratelimit import RateLimiter, retry_after_header
from anjian.enforcement import draws
from anjian.enforcement.models import Draw
from anjian.enforcement.page_common import PAGE_SIZE, TEMPLATES, WEIGHTING_LABELS, categories_text
from anjian.enterprises.service import enterprise_names
from anjian.web.layout import pager_of
from anjian.web.render import pages_router, render

router = pages_router(TEMPLATES)


@dataclass(frozen=True)
class PublicCheck:
    """A drawn enterprise as published: its name and division, and the team's size only."""

    position: int
    enterprise: str
    division: str
    inspectors: int


@dataclass(frozen=True)
class PublicDraw:
    """A draw as published: nothing here names or identifies a person."""

    id: int
    drawn_at: datetime
    division: str
    categories: str
    weighting: str
    population: int
    enterprise_count: int
    inspectors_per_check: int
    seed: str
    population_hash: str
    checks: list[PublicCheck]


def _published(session: Session, draw: Draw) -> PublicDraw:
    checks = draws.checks_of(session, draw)
    names = enterprise_names(session, (c.enterprise_id for c in checks))
    places = division_names(session, [draw.division_code, *(c.division_code for c in checks)])
    return PublicDraw(
        id=draw.id,
        drawn_at=draw.drawn_at,
        division=places.get(draw.division_code, draw.division_code),
        categories=categories_text(draw.categories),
        weighting=WEIGHTING_LABELS.get(draw.weighting, draw.weighting),
        population=len(draw.population.get("enterprises", [])),
        enterprise_count=draw.enterprise_count,
        inspectors_per_check=draw.inspectors_per_check,
        seed=draw.seed,
        population_hash=draw.population_hash,
        checks=[
            PublicCheck(
                position=c.position,
                enterprise=names.get(c.enterprise_id, ""),
                division=places.get(c.division_code, c.division_code),
                inspectors=len(c.team),
            )
            for c in checks
        ],
    )


def _limited(request: Request) -> Response | None:
    """The 429 page when the client's address asked too often this minute, else None."""
    limiter = getattr(request.app.state, "public_draws_limiter", None)
    if limiter is None:
        limiter = RateLimiter(get_settings().public_rate_per_ip, 60.0)
        request.app.state.public_draws_limiter = limiter
    wait = limiter.hit(f"ip:{client_ip(request) or '?'}")
    if wait is None:
        return None
    response = render(
        request,
        "error.html",
        {"status": 429, "title": "请求过于频繁", "message": "请稍后再试。"},
        429,
    )
    response.headers["Retry-After"] = retry_after_header(wait)
    return response


def _node_division(session: Session) -> str:
    code = get_settings().node_division
    return division_names(session, [code]).get(code, "")


@router.get("/public/draws")
def public_draws(request: Request, db: DB, page_no: PageNumber = 1) -> Response:
    """双随机抽查结果公示: the draws this node made, newest first (no login)."""
    refused = _limited(request)
    if refused is not None:
        return refused
    rows, total = draws.published_draws(db, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
    return render(
        request,
        "enforcement/public_draws.html",
        {
            "items": [_published(db, d) for d in rows],
            "node_division": _node_division(db),
            **pager_of(total, page_no, PAGE_SIZE),
        },
    )


@router.get("/public/draws/{draw_id:int}")
def public_draw(request: Request, draw_id: int, db: DB) -> Response:
    """One draw as published, with the node's recomputation of it from its seed (no login)."""
    refused = _limited(request)
    if refused is not None:
        return refused
    draw = draws.published_draw(db, draw_id)
    hash_ok, matches = draws.recheck(db, draw)
    return render(
        request,
        "enforcement/public_draw.html",
        {
            "d": _published(db, draw),
            "matches": matches,
            "verdict": draws.verdict(hash_ok, matches),
            "node_division": _node_division(db),
        },
    )
