"""Random draws (双随机一公开): an agency draws enterprises of its jurisdiction and the officers
who inspect them, with a recorded seed, so anybody can recompute the result.

The population (enterprises with their risk class, officers with their conflicts, the earlier
pairs) is recorded with the draw, keyed by the enterprises' uids, so that the draw can be
verified at any node it reached. Writes are audited and synced up; nothing here commits."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit_record
from anjian.core.errors import Forbidden, Invalid, NotFound, OutOfScope
from anjian.core.iam.models import Role, User
from anjian.core.paging import paged
from anjian.core.records import copied
from anjian.core.scope import Scope, division_filter, unscoped
from anjian.core.sync.outbox import record_changes
from anjian.db import utcnow
from anjian.enforcement.inspectors import conflicts_of, list_inspectors
from anjian.enforcement.models import Draw, DrawCheck, enterprise_columns
from anjian.enforcement.rules.draw import (
    RISK_WEIGHTS,
    Candidate,
    DrawnCheck,
    Inspector,
    Weighting,
    assign_inspectors,
    draw_enterprises,
    population_hash,
)
from anjian.enforcement.schemas import (
    DrawCreate,
    DrawnEnterprise,
    DrawRead,
    DrawVerification,
    TeamMember,
)
from anjian.enforcement.sync import DRAW_CHECK_ENTITY, DRAW_ENTITY, add_synced
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import EnterpriseStatus
from anjian.enterprises.service import enterprise_names, enterprise_uids, list_enterprises
from anjian.major_hazards.service import enterprises_with_major_sources
from anjian.risk.service import division_levels

NOT_DRAWN = EnterpriseStatus.CLOSED  # an enterprise closed down (关闭) is not inspected


def population(
    session: Session, scope: Scope, division: str, categories: list[str]
) -> tuple[list[Candidate], dict[str, Enterprise]]:
    """The enterprises that may be drawn, keyed by uid with their risk class, and the
    enterprises by uid."""
    ents, _ = list_enterprises(session, scope, division=division, limit=None)
    wanted = [
        e
        for e in ents
        if e.status != NOT_DRAWN and (not categories or e.supervision_category in categories)
    ]
    levels = division_levels(session, scope, division)
    majors = enterprises_with_major_sources(session, scope, division)
    candidates = []
    for e in wanted:
        risk = "major" if e.id in majors else levels.get(e.id)
        candidates.append(Candidate(e.uid, str(risk) if risk else None))
    return candidates, {e.uid: e for e in wanted}


def _officers(session: Session, scope: Scope, division: str) -> tuple[list[Inspector], dict]:
    """The active officers of the division's agency with their conflicts (by enterprise uid),
    and their names and certificates by id."""
    rows = [i for i in list_inspectors(session, scope, division=division) if i.active]
    conflicts = conflicts_of(session, (i.id for i in rows))
    uids = enterprise_uids(session, (c.enterprise_id for cs in conflicts.values() for c in cs))
    pool = [
        Inspector(i.id, frozenset(uids[c.enterprise_id] for c in conflicts[i.id])) for i in rows
    ]
    return pool, {
        i.id: TeamMember(id=i.id, name=i.name, certificate_no=i.certificate_no) for i in rows
    }


def _past_pairs(session: Session, scope: Scope, division: str) -> dict[tuple[int, str], int]:
    """How often each officer of the agency was sent to each enterprise by its earlier draws."""
    rows = session.execute(
        scope.select(DrawCheck, DrawCheck.team, DrawCheck.enterprise_id)
        .join(Draw, Draw.id == DrawCheck.draw_id)
        .where(Draw.division_code == division, Draw.origin_node == DrawCheck.origin_node)
    ).all()
    uids = enterprise_uids(session, (ent for _team, ent in rows))
    pairs: Counter[tuple[int, str]] = Counter()
    for team, ent in rows:
        for member in team:
            pairs[(int(member["inspector_id"]), uids[ent])] += 1
    return dict(pairs)


def make_draw(session: Session, actor: Actor, scope: Scope, user: User, data: DrawCreate) -> Draw:
    """Draw enterprises of ``data.division_code`` (in scope) and assign officers of that
    division's agency to each; the draw and its checks are recorded, audited and synced up."""
    if user.role != Role.OFFICIAL:
        raise Forbidden("只有监管人员可以组织抽查 (only officials draw)")
    if not scope.covers_code(data.division_code):
        raise OutOfScope(
            f"行政区划不在管辖范围内: {data.division_code} (division outside your jurisdiction)",
            field="division_code",
        )
    candidates, by_uid = population(session, scope, data.division_code, data.categories)
    pool, team_of = _officers(session, scope, data.division_code)
    if not pool:
        raise Invalid(
            f"{data.division_code} 没有登记在岗的执法人员，无法抽取 "
            "(no active officers registered for this division)",
            field="division_code",
        )
    past = _past_pairs(session, scope, data.division_code)
    seed = data.seed or secrets.token_hex(16)
    weights = dict(RISK_WEIGHTS)
    chosen = draw_enterprises(candidates, data.enterprise_count, seed, data.weights, weights)
    checks = assign_inspectors(chosen, pool, data.inspectors_per_check, seed, past)
    draw = Draw(
        division_code=data.division_code,
        categories=sorted(set(data.categories)),
        enterprise_count=data.enterprise_count,
        inspectors_per_check=data.inspectors_per_check,
        weighting=str(data.weights),
        seed=seed,
        population_hash=population_hash(candidates, pool),
        population={
            "enterprises": sorted([str(c.id), c.risk] for c in candidates),
            "inspectors": sorted([i.id, sorted(map(str, i.conflicts))] for i in pool),
            "weights": weights,
            "past_pairs": sorted([i, str(e), n] for (i, e), n in past.items()),
        },
        drawn_at=utcnow(),
        drawn_by=actor.username,
        origin_node="",
    )
    add_synced(session, draw, entity=DRAW_ENTITY)
    rows = [
        DrawCheck(
            draw_id=draw.id,
            position=n,
            **enterprise_columns(by_uid[str(check.enterprise_id)]),
            team=[_member(team_of[i]) for i in check.inspector_ids],
            origin_node="",
        )
        for n, check in enumerate(checks, start=1)
    ]
    session.add_all(rows)
    session.flush()
    record_changes(session, rows, entity=DRAW_CHECK_ENTITY)
    audit_record(
        session,
        actor,
        "enforcement.draw",
        "enforcement_draw",
        draw,
        detail={
            "seed": seed,
            "population_hash": draw.population_hash,
            "population": len(candidates),
            "enterprise_count": draw.enterprise_count,
            "weights": draw.weighting,
        },
    )
    return draw


def _member(member: TeamMember) -> dict[str, Any]:
    return {"inspector_id": member.id, "name": member.name, "certificate_no": member.certificate_no}


def get_draw(session: Session, scope: Scope, draw_id: int) -> Draw:
    """One draw in scope (the drawing agency's jurisdiction); else the same 404."""
    return scope.one(session, Draw, draw_id)


def list_draws(
    session: Session,
    scope: Scope,
    *,
    division: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[Draw], int]:
    """Draws in scope (by agencies in ``division`` or below), newest first, and their number."""
    stmt = scope.select(Draw)
    if division:
        stmt = stmt.where(division_filter(Draw.division_code, division))
    return paged(session, stmt, (Draw.drawn_at.desc(), Draw.id.desc()), limit=limit, offset=offset)


@unscoped("the checks of a draw already read in scope: the draw's result is shown whole")
def checks_of(session: Session, draw: Draw) -> list[DrawCheck]:
    """The checks of a draw, in draw order."""
    stmt = select(DrawCheck).where(DrawCheck.draw_id == draw.id, DrawCheck.deleted.is_(False))
    return list(session.scalars(stmt.order_by(DrawCheck.position)))


def present_all(session: Session, draws: list[Draw]) -> list[DrawRead]:
    """:func:`present` of each draw."""
    return [present(session, d) for d in draws]


def present(session: Session, draw: Draw) -> DrawRead:
    """A draw with its enterprises by name and their teams."""
    checks = checks_of(session, draw)
    names = enterprise_names(session, (c.enterprise_id for c in checks))
    return copied(
        DrawRead,
        draw,
        weights=draw.weighting,
        enterprises=[
            DrawnEnterprise(
                id=c.enterprise_id,
                name=names.get(c.enterprise_id, ""),
                division_code=c.division_code,
                inspectors=[TeamMember.model_validate(m) for m in c.team],
            )
            for c in checks
        ],
    )


def recompute(draw: Draw) -> tuple[str, list[DrawnCheck]]:
    """The population hash and the checks a draw's seed gives over its recorded population."""
    snap = draw.population
    candidates = [Candidate(uid, risk) for uid, risk in snap["enterprises"]]
    pool = [Inspector(int(i), frozenset(conflicts)) for i, conflicts in snap["inspectors"]]
    past = {(int(i), str(e)): int(n) for i, e, n in snap["past_pairs"]}
    chosen = draw_enterprises(
        candidates, draw.enterprise_count, draw.seed, Weighting(draw.weighting), snap["weights"]
    )
    checks = assign_inspectors(chosen, pool, draw.inspectors_per_check, draw.seed, past)
    return population_hash(candidates, pool), checks


def recheck(session: Session, draw: Draw) -> tuple[bool, bool]:
    """Whether the recorded population still has the recorded hash, and whether the draw
    recomputed from its seed over it gives the recorded result (enterprises and teams)."""
    digest, checks = recompute(draw)
    recorded = checks_of(session, draw)
    uids = enterprise_uids(session, (c.enterprise_id for c in recorded))
    stored = [
        (uids.get(c.enterprise_id), tuple(sorted(m["inspector_id"] for m in c.team)))
        for c in recorded
    ]
    again = [(str(c.enterprise_id), c.inspector_ids) for c in checks]
    hash_ok = digest == draw.population_hash
    return hash_ok, hash_ok and stored == again


def verdict(hash_ok: bool, matches: bool) -> str:
    """What a :func:`recheck` found, in words."""
    if matches:
        return "复核一致：按记录的随机种子和抽取范围重新计算，结果与公布结果相同"
    if not hash_ok:
        return "复核不一致：记录的抽取范围与其摘要不符"
    return "复核不一致：重新计算的结果与记录的结果不同"


def verify(session: Session, scope: Scope, draw_id: int, user: User) -> DrawVerification:
    """Recompute a draw from its seed and recorded population and compare it with the recorded
    result; at the drawing node, also say whether the population is still the one drawn from."""
    draw = get_draw(session, scope, draw_id)
    hash_ok, matches = recheck(session, draw)
    unchanged: bool | None = None
    if user.role == Role.OFFICIAL and scope.covers_code(draw.division_code) and _here(draw):
        candidates, _ = population(session, scope, draw.division_code, draw.categories)
        pool, _ = _officers(session, scope, draw.division_code)
        unchanged = population_hash(candidates, pool) == draw.population_hash
    return DrawVerification(
        id=draw.id,
        matches=matches,
        population_hash=draw.population_hash,
        population_hash_matches=hash_ok,
        population_unchanged=unchanged,
        message=verdict(hash_ok, matches),
    )


def _here(draw: Draw) -> bool:
    return draw.origin_node == get_settings().effective_node_id


@unscoped("the public page of draws (双随机一公开): the draws this node made, shown to anyone")
def published_draws(
    session: Session, *, limit: int | None = 20, offset: int = 0
) -> tuple[list[Draw], int]:
    """The draws made at this node (not those received from below), newest first, and their
    number: what the node publishes."""
    stmt = select(Draw).where(
        Draw.origin_node == get_settings().effective_node_id, Draw.deleted.is_(False)
    )
    return paged(session, stmt, (Draw.drawn_at.desc(), Draw.id.desc()), limit=limit, offset=offset)


@unscoped("the public page of draws (双随机一公开): one draw this node made, shown to anyone")
def published_draw(session: Session, draw_id: int) -> Draw:
    """One draw made at this node; any other id is the same 404."""
    draw = session.scalar(
        select(Draw).where(
            Draw.id == draw_id,
            Draw.origin_node == get_settings().effective_node_id,
            Draw.deleted.is_(False),
        )
    )
    if draw is None:
        raise NotFound(f"抽查记录不存在: {draw_id} (no such draw)")
    return draw
