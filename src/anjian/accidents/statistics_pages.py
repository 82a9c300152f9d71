"""事故统计 console page ("一张表"): the accident statistics of the jurisdiction by division,
industry, type, grade or month over a period, beside the same period last year (同比), with a
chart, drill-down from province to county, a breadcrumb back up and the Excel export.

The figures come from :func:`anjian.accidents.statistics.statistics` with the user's scope, as
the API's do; the export link is the API's, with the same parameters."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.responses import Response

from anjian.accidents.statistics import BY_LABELS, StatisticsTable, statistics
from anjian.core.errors import Invalid
from anjian.web.layout import page
from anjian.web.render import pages_router, zh
from anjian.web.session import StaffPageCtx

router = pages_router(Path(__file__).parent / "templates")

PATH = "/accidents/statistics"
EXPORT = "/api/v1/accidents/statistics.xlsx"
CURRENT_HEX = "#d63939"  # Tabler red: this period
LAST_HEX = "#9aa0ac"  # grey: the same period last year


def _date(value: str, field: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f"日期格式应为 YYYY-MM-DD: {value} (a date is YYYY-MM-DD)", field=field
        ) from None


def change_text(diff: int, pct: float | None) -> str:
    """A change for display: signed, and its percentage (— when last year had none)."""
    sign = "+" if diff > 0 else ""
    return f"{sign}{diff}" + (f"（{sign}{pct:g}%）" if pct is not None else "（—）")


def _chart(table: StatisticsTable) -> dict[str, Any]:
    """The bar chart's data: the count of every row this period and last year's."""
    return {
        "title": f"事故起数（按{table.by_label}）",
        "labels": [r.label for r in table.rows],
        "series": [
            {
                "name": f"本期 {table.start:%Y-%m-%d}至{table.end:%Y-%m-%d}",
                "colour": CURRENT_HEX,
                "data": [r.count for r in table.rows],
            },
            {
                "name": f"去年同期 {table.last_start:%Y-%m-%d}至{table.last_end:%Y-%m-%d}",
                "colour": LAST_HEX,
                "data": [r.last_year.count for r in table.rows],
            },
        ],
    }


@router.get(PATH)
def statistics_page(
    request: Request,
    ctx: StaffPageCtx,
    by: str = "division",
    division: str = "",
    start: str = "",
    end: str = "",
) -> Response:
    """事故统计: the table of the chosen breakdown and period (default this year to today),
    同比 beside every figure; division rows drill down; 导出 Excel with the same parameters. A
    wrong period or breakdown shows the form with the error; a division outside the
    jurisdiction is the 404 page."""
    division = division.strip()
    params = {"by": by, "division": division, "start": start.strip(), "end": end.strip()}
    error, table = "", None
    try:
        table = statistics(
            ctx.db,
            ctx.scope,
            by=by,
            division=division or None,
            start=_date(start, "start"),
            end=_date(end, "end"),
        )
    except Invalid as exc:
        if exc.field == "division":  # a malformed code: the error page, like one out of scope
            raise
        error = zh(exc.message)
    if table is not None:
        # the form shows the period the table covers (the defaults filled in)
        params |= {"start": table.start.isoformat(), "end": table.end.isoformat()}
    return page(
        request,
        ctx,
        "accidents/statistics.html",
        {
            "by_labels": BY_LABELS,
            "params": params,
            "table": table,
            "error": error,
            "path": PATH,
            "export": EXPORT,
            "change_text": change_text,
            "chart": _chart(table) if table is not None else None,
        },
        active="accident_statistics",
        status_code=422 if error else 200,
    )
