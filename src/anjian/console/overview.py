"""双重预防 console page: the agency's overview of risk grading (风险分级管控), hidden-hazard
governance (隐患排查治理) and major hazard sources (重大危险源) in its jurisdiction, with a table
by the divisions one tier below that drills down province → city → county.

Every figure comes from the three domains' own summary services with the user's scope; an
enterprise user sees their own enterprise's figures."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fastapi import Request
from starlette.responses import Response

from anjian.core.divisions import service as divisions
from anjian.core.divisions.rules import prefix_of
from anjian.core.iam.deps import Context
from anjian.core.scope import Scope, breakdown
from anjian.enterprises import service as enterprises
from anjian.hidden_hazards import service as hazards
from anjian.hidden_hazards.schemas import HazardStats
from anjian.major_hazards import service as major_hazards
from anjian.major_hazards.schemas import SourceSummary
from anjian.risk import service as risk
from anjian.risk.labels import LEVELS
from anjian.risk.schemas import LevelCounts, RiskSummary
from anjian.web.layout import division_name, page
from anjian.web.offloop import page_routes
from anjian.web.session import PageCtx

router = page_routes()

OPEN_HEX = "#f76707"  # Tabler orange: hazards still open
CLOSED_HEX = "#2fb344"  # Tabler green: hazards written off (销号)


@dataclass(frozen=True)
class DivisionRow:
    """One division of the table: the three summaries joined."""

    code: str
    name: str
    link: bool  # whether it can be drilled into
    points: LevelCounts
    hazards: HazardStats
    major_sources: int


def _narrow(scope: Scope, code: str) -> Scope:
    """The scope limited to division ``code`` and below (never wider than ``scope``)."""
    prefix = prefix_of(code)
    if any(prefix.startswith(p) for p in scope.prefixes):
        return replace(scope, prefixes=(prefix,))
    return replace(scope, prefixes=tuple(p for p in scope.prefixes if p.startswith(prefix)))


def _no_hazards(code: str, name: str) -> HazardStats:
    return HazardStats(
        division_code=code,
        division_name=name,
        found=0,
        closed=0,
        open=0,
        overdue=0,
        major_open=0,
        rectification_rate=None,
    )


def _rows(
    ctx: Context, root: str, risk_rows: list[RiskSummary], hazard_rows: list[HazardStats]
) -> list[DivisionRow]:
    """The divisions one tier below ``root`` (the root itself for a county), each with its
    risk points, hazards and major sources. Both summaries list every child division, those
    without data too (``divisions.children_with_zeros``), so the rows are their union."""
    points = {r.division_code: r for r in risk_rows}
    found = {r.division_code: r for r in hazard_rows}
    names = {code: r.division_name for code, r in [*points.items(), *found.items()]}
    out = []
    for code in sorted(names):
        sources = major_hazards.summary(ctx.db, _narrow(ctx.scope, code))
        out.append(
            DivisionRow(
                code=code,
                name=names[code],
                link=code != root,
                points=points[code].points if code in points else LevelCounts(),
                hazards=found.get(code) or _no_hazards(code, names[code]),
                major_sources=sources.major,
            )
        )
    return out


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def _charts(
    rows: list[DivisionRow], total_hazards: HazardStats, points: LevelCounts, label: str
) -> dict[str, Any]:
    """The data of the two charts: hazards by division (open / closed) and points by level."""
    bars = [(r.name, r.hazards.open, r.hazards.closed) for r in rows] or [
        (label, total_hazards.open, total_hazards.closed)
    ]
    return {
        "hazards": {
            "divisions": [name for name, _, _ in bars],
            "series": [
                {"name": "未整改", "colour": OPEN_HEX, "data": [n for _, n, _ in bars]},
                {"name": "已销号", "colour": CLOSED_HEX, "data": [n for _, _, n in bars]},
            ],
        },
        "levels": [
            {
                "name": lv["label"],
                "value": getattr(points, lv["code"]),
                "itemStyle": {"color": lv["hex"]},
            }
            for lv in LEVELS
        ],
    }


@router.get("/dual-prevention")
def dual_prevention(request: Request, ctx: PageCtx, division: str = "") -> Response:
    """双重预防: risk points by level, hidden hazards and major hazard sources in the
    jurisdiction (or in ``division`` inside it), by the divisions one tier below."""
    division = division.strip()
    root, _width = breakdown(ctx.scope, division or None)  # refuses a division outside scope
    risk_rows = risk.summary(ctx.db, ctx.scope, division or None)
    hazard_rows = hazards.statistics(ctx.db, ctx.scope, division or None)
    risk_head, hazard_head = risk_rows[0], hazard_rows[0]
    enterprise = ctx.scope.is_enterprise
    scope = _narrow(ctx.scope, division) if division else ctx.scope
    sources: SourceSummary = major_hazards.summary(ctx.db, scope)
    if enterprise:
        ent = enterprises.enterprise_by_id(ctx.db, ctx.scope.enterprise_id)
        label = ent.name if ent else "本企业"
        rows: list[DivisionRow] = []
        up = ""
    else:
        label = division_name(ctx.db, root) or "全国"
        rows = _rows(ctx, root, risk_rows[1:], hazard_rows[1:])
        parent = divisions.get_division(ctx.db, root)
        up_code = parent.parent_code if parent and division else None
        up = (
            f"/dual-prevention?division={up_code}"
            if up_code and ctx.scope.covers_code(up_code)
            else ("/dual-prevention" if division else "")
        )
    return page(
        request,
        ctx,
        "console/overview.html",
        {
            "label": label,
            "enterprise": enterprise,
            "division": division,
            "up": up,
            "levels": LEVELS,
            "points": risk_head.points,
            "enterprises": risk_head.enterprises,
            "hazards": hazard_head,
            "rate": _rate(hazard_head.rectification_rate),
            "sources": sources,
            "rows": rows,
            "fmt_rate": _rate,
            "charts": _charts(rows, hazard_head, risk_head.points, label),
        },
        active="dual_prevention",
    )
