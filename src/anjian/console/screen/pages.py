"""The command screen (大屏) at ``/screen``: a full-screen, dark page of the official's
jurisdiction — open alarms and the online rate, hidden hazards by state, accidents this year
beside last year, enterprises by risk colour, events in progress and the map — that updates
itself: its stream says when a figure changed, the page fetches the figures and redraws the
charts in place (no reload, so nothing piles up over a day on the wall)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from anjian.console.screen.figures import figures, revision
from anjian.core.scope import Scope
from anjian.db import unit_of_work
from anjian.web.layout import jurisdiction_places
from anjian.web.offloop import page_routes
from anjian.web.render import map_tiles, render
from anjian.web.session import StaffPageCtx
from anjian.web.streams import watch

router = page_routes()
POLL_S = 5.0  # the figures are aggregates over the whole jurisdiction: read them less often


def _frame(ctx: Any) -> list[list[float]]:
    """The centroids ([lat, lng]) of the jurisdiction's divisions and those one tier below: the
    map's first frame (none for the nation: the map starts on China)."""
    return [[p["lat"], p["lng"]] for p in jurisdiction_places(ctx.db, ctx.scope)]


@router.get("/screen")
def screen(request: Request, ctx: StaffPageCtx) -> Response:
    """大屏: the jurisdiction's figures, live."""
    data = figures(ctx.db, ctx.scope, ctx.user.division_code)
    return render(
        request,
        "screen/screen.html",
        {
            "data": data.model_dump(mode="json"),
            "revision": revision(data),
            "map": {"tiles": map_tiles(), "frame": _frame(ctx)},
        },
    )


@router.get("/screen/figures")
def screen_figures(ctx: StaffPageCtx) -> JSONResponse:
    """The figures as JSON, with their revision (the page fetches them when told)."""
    data = figures(ctx.db, ctx.scope, ctx.user.division_code)
    return JSONResponse(
        {"revision": revision(data), "figures": data.model_dump(mode="json")},
        headers={"Cache-Control": "no-store"},
    )


def _read(scope: Scope) -> str:
    with unit_of_work(read_only=True) as db:
        return revision(figures(db, scope, ""))


@router.get("/screen/stream")
async def screen_stream(request: Request, since: str = "") -> Response:
    """The screen's live feed: ``changed`` once any figure differs from ``since``."""
    return watch(request, _read, since=since[:64], back="/screen", poll_s=POLL_S)
