"""执法统计 console page ("一张表"): a year's inspections, findings, documents, penalties and
fines by the divisions one tier below the one shown, the total first, with year and division
filters, drill-down (a division's row opens the same table for it), the way back up, and the
Excel export with the same filters. The figures come from
:func:`anjian.enforcement.statistics.statistics` with the user's scope, as the API's do."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from anjian.core.clock import today_in_china
from anjian.core.divisions import service as divisions
from anjian.core.divisions.rules import is_valid_code
from anjian.core.errors import Invalid
from anjian.core.iam.deps import Context
from anjian.enforcement.page_common import ACTIVE, TEMPLATES, labels
from anjian.enforcement.statistics import statistics
from anjian.web.forms import division_choices
from anjian.web.layout import page
from anjian.web.render import pages_router, zh
from anjian.web.session import StaffPageCtx

router = pages_router(TEMPLATES)

PATH = "/enforcement/statistics"
EXPORT = "/api/v1/enforcement/statistics.xlsx"
FIRST_YEAR = 2020  # the years offered in the filter: from here to this one


def _path(ctx: Context, code: str) -> list[tuple[str, str]]:
    """The divisions from the top of the user's jurisdiction down to ``code`` (the breadcrumb),
    as (code, name); the top is linked without a division (the default table)."""
    chain = [*divisions.ancestors_of(ctx.db, code), divisions.get_division(ctx.db, code)]
    return [(d.code, d.name) for d in chain if d is not None and ctx.scope.covers_code(d.code)]


def _drills(code: str) -> bool:
    """Whether a division has divisions below it to drill into (a county has none here)."""
    return code.endswith("00")


@router.get(PATH)
def statistics_page(
    request: Request,
    ctx: StaffPageCtx,
    division: str = "",
    year: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """执法统计: the table of a year (default this one) by the divisions one tier below
    ``division`` (default: the jurisdiction); a wrong year or code shows the form with its
    message, a division outside the jurisdiction is the 404 page."""
    this_year = today_in_china().year
    division, year = division.strip(), year.strip()
    error = ""
    chosen = this_year
    if year:
        if year.isdigit() and 2000 <= int(year) <= 2100:
            chosen = int(year)
        else:
            error = f"年份应为 2000–2100 之间的整数：{year}"
    if division and not is_valid_code(division):
        error = f"行政区划代码应为 6 位数字：{division}"
    rows = []
    if not error:
        try:
            rows = statistics(ctx.db, ctx.scope, chosen, division or None)
        except Invalid as exc:  # a malformed code caught above; anything else said at the form
            error = zh(exc.message)
    params = {"division": division, "year": str(chosen)}
    shown = rows[0].division_code if rows else ""
    return page(
        request,
        ctx,
        "enforcement/statistics.html",
        {
            "rows": rows,
            "params": params,
            "error": error,
            "path": PATH,
            "export": EXPORT,
            "years": list(range(max(this_year, chosen), FIRST_YEAR - 1, -1)),
            "divisions": division_choices(ctx),
            "crumbs": _path(ctx, shown) if shown else [],
            "drills": _drills,
            **labels(),
        },
        active=ACTIVE,
        status_code=422 if error else 200,
    )
