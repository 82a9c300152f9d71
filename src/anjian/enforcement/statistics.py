"""Enforcement statistics (执法统计, 一张表): inspections, findings, documents, penalty cases and
fines of a year, one row per division one tier below the one asked for (every division, a
quiet one as zeros), a total row first; drill down by asking for a row's division."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import Session

from anjian.core.clock import CST
from anjian.core.divisions.rules import prefix_of
from anjian.core.divisions.service import ChildDivisions, children_with_zeros
from anjian.core.scope import Scope, Scoped, breakdown, division_filter
from anjian.core.xlsx import write_sheet
from anjian.enforcement.models import EnforcementDocument, Finding, Inspection, PenaltyCase
from anjian.enforcement.rules.inspections import InspectionState
from anjian.enforcement.rules.penalties import YUAN
from anjian.enforcement.schemas import EnforcementStats

FIGURES = ("inspections", "findings", "documents", "penalties", "fines", "paid")


def _year(column: Any, year: int) -> ColumnElement[bool]:
    """The condition "in ``year``" of a date column."""
    return (column >= date(year, 1, 1)) & (column < date(year + 1, 1, 1))


def _year_at(column: Any, year: int) -> ColumnElement[bool]:
    """The condition "in ``year``, Beijing time" of a time column."""
    start, end = datetime(year, 1, 1, tzinfo=CST), datetime(year + 1, 1, 1, tzinfo=CST)
    return (column >= start) & (column < end)


def _fold(
    session: Session,
    scope: Scope,
    model: type[Scoped],
    children: ChildDivisions,
    root: str,
    condition: ColumnElement[bool],
    value: Any,
) -> dict[str, int]:
    """``value`` (a count or a sum) of the rows of ``model`` in scope meeting ``condition``, by
    the child division they fall in."""
    division = model.division_code  # type: ignore[attr-defined]
    stmt = scope.select(model, division, value).where(condition)
    if prefix_of(root):
        stmt = stmt.where(division_filter(division, root))
    out: dict[str, int] = {}
    for code, figure in session.execute(stmt.group_by(division)):
        child = children.child_of(str(code))
        out[child] = out.get(child, 0) + int(figure or 0)
    return out


def statistics(
    session: Session, scope: Scope, year: int, division: str | None = None
) -> list[EnforcementStats]:
    """The year's figures by the divisions one tier below ``division`` (default: the scope's
    jurisdiction), a total row first. Fines in yuan: decided (罚款) and paid (已缴, surcharges
    included)."""
    root, _width = breakdown(scope, division)
    children = children_with_zeros(session, root, scope.overlaps)

    def fold(model: type[Scoped], condition: ColumnElement[bool], value: Any) -> dict[str, int]:
        return _fold(session, scope, model, children, root, condition, value)

    decided = _year(PenaltyCase.decided_on, year)
    counted = {
        "inspections": fold(
            Inspection,
            (Inspection.state == InspectionState.FINISHED) & _year(Inspection.planned_on, year),
            func.count(),
        ),
        "findings": fold(Finding, _year_at(Finding.found_at, year), func.count()),
        "documents": fold(EnforcementDocument, EnforcementDocument.year == year, func.count()),
        "penalties": fold(PenaltyCase, decided, func.count()),
        "fines": fold(PenaltyCase, decided, func.sum(PenaltyCase.fine_fen)),
        "paid": fold(PenaltyCase, _year(PenaltyCase.paid_on, year), func.sum(PenaltyCase.paid_fen)),
    }
    seen = {code for figures in counted.values() for code in figures}
    rows = [
        (code, name, [counted[f].get(code, 0) for f in FIGURES])
        for code, name in children.rows(session, seen)
    ]
    totals = [sum(r[2][i] for r in rows) for i in range(len(FIGURES))]
    root_name = children.names.get(root, "合计")
    return [_row(root, f"{root_name}（合计）", totals), *(_row(c, n, v) for c, n, v in rows)]


def _row(code: str, name: str, values: list[int]) -> EnforcementStats:
    figures = dict(zip(FIGURES, values, strict=True))
    return EnforcementStats(
        division_code=code,
        division_name=name,
        inspections=figures["inspections"],
        findings=figures["findings"],
        documents=figures["documents"],
        penalties=figures["penalties"],
        fines=(Decimal(figures["fines"]) / 100).quantize(YUAN),
        paid=(Decimal(figures["paid"]) / 100).quantize(YUAN),
    )


COLUMNS = [
    ("行政区划", 20),
    ("代码", 10),
    ("检查（次）", 12),
    ("发现问题（项）", 14),
    ("执法文书（份）", 14),
    ("行政处罚（件）", 14),
    ("罚款（元）", 16),
    ("已缴（元）", 16),
]


def statistics_xlsx(rows: list[EnforcementStats], year: int) -> bytes:
    """The statistics as one .xlsx sheet, the total first, as the API answers them."""
    return write_sheet(
        "执法统计",
        COLUMNS,
        (
            [
                r.division_name,
                r.division_code,
                r.inspections,
                r.findings,
                r.documents,
                r.penalties,
                float(r.fines),
                float(r.paid),
            ]
            for r in rows
        ),
        caption=f"{year} 年行政执法统计（{rows[0].division_name}）",
    )
