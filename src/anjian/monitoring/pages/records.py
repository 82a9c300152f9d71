"""One alarm with its closed loop (确认 → 处置 → 关闭), a point with its trend chart, and an
enterprise's monitoring; and the monitoring lines of an enterprise's dossier."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from anjian.core.errors import AnjianError, NotFound
from anjian.core.iam.deps import Context
from anjian.core.iam.people import display_names
from anjian.core.scope import Scope
from anjian.enterprises.service import enterprise_in_scope
from anjian.major_hazards.service import get_source
from anjian.monitoring import alarms, board, gateways, points
from anjian.monitoring.batch import REASONS
from anjian.monitoring.models import Alarm
from anjian.monitoring.pages.labels import DONE_MESSAGES, PAGE_SIZE, labels
from anjian.monitoring.rules import GAS_DETECTOR_KINDS, STATUSES, Bound, bound_label
from anjian.monitoring.schemas import DispositionCreate
from anjian.risk.labels import LEVEL_BADGES
from anjian.web import dossier
from anjian.web.forms import field_errors, posted_form
from anjian.web.layout import division_name, page
from anjian.web.offloop import page_routes
from anjian.web.session import PageCtx, refused, safe_next

router = page_routes()
# A point's set points, worst first on each side, with the colours of their severity on the
# board (严重 red, 预警 orange); their names depend on the point's kind (rules.bound_label).
SET_POINT_COLOURS = {
    Bound.HH.value: "#d63939",
    Bound.H.value: "#f76707",
    Bound.L.value: "#f76707",
    Bound.LL.value: "#d63939",
}


# --- one alarm and its closed loop -------------------------------------------------------------


def _alarm_page(
    request: Request,
    ctx: Context,
    alarm: Alarm,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    back: str = "",
    status_code: int = 200,
) -> Response:
    view = alarms.present_alarms(ctx.db, [alarm])[0]
    people = display_names(ctx.db, [alarm.acknowledged_by, alarm.handled_by, alarm.closed_by])
    return page(
        request,
        ctx,
        "monitoring/alarm.html",
        {
            "a": view,
            "people": people,
            "errors": errors or {},
            "values": values or {},
            "back": back or f"/monitoring/alarms/{alarm.id}",  # where the step forms return
            "return_to": back or "/monitoring",
            "done": DONE_MESSAGES.get(request.query_params.get("done", ""), ""),
            **labels(),
        },
        active="monitoring",
        status_code=status_code,
    )


@router.get("/monitoring/alarms/{alarm_id}")
def alarm_detail(request: Request, alarm_id: int, ctx: PageCtx) -> Response:
    """One alarm: what raised it, its loop so far, and the next step (确认, 处置, 关闭)."""
    alarm = alarms.get_alarm(ctx.db, ctx.scope, alarm_id)
    back = request.query_params.get("next")
    return _alarm_page(request, ctx, alarm, back=safe_next(back) if back else "")


@router.post("/monitoring/alarms/{alarm_id}/{verb}")
async def alarm_step(request: Request, alarm_id: int, verb: str, ctx: PageCtx) -> Response:
    """Take one step of the alarm's loop from the board or the alarm's page; refusals and
    disposition errors are shown on the alarm's page, at their fields."""
    form = await posted_form(request)
    back = safe_next(form.get("next") or f"/monitoring/alarms/{alarm_id}")
    errors: dict[str, str] = {}
    status = 422
    try:
        if verb == "acknowledge":
            alarms.acknowledge(ctx.db, ctx.actor, ctx.scope, alarm_id)
        elif verb == "handle":
            body = {k: form.get(k, "").strip() for k in ("cause", "action", "handler")}
            try:
                data = DispositionCreate.model_validate(body)
            except ValidationError as exc:
                errors = field_errors(exc)
            else:
                alarms.handle(ctx.db, ctx.actor, ctx.scope, alarm_id, data)
        elif verb == "close":
            alarms.close(ctx.db, ctx.actor, ctx.scope, alarm_id)
        else:
            raise NotFound(f"未知操作: {verb} (unknown step)")
    except AnjianError as exc:
        errors, status = refused(request, ctx, exc), exc.status
    if errors:
        alarm = alarms.get_alarm(ctx.db, ctx.scope, alarm_id)  # out of scope: the 404 page
        return _alarm_page(
            request, ctx, alarm, errors=errors, values=form, back=back, status_code=status
        )
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}done={verb}#alarm-{alarm_id}", status_code=303)


# --- 测点详情 -----------------------------------------------------------------------------------


@router.get("/monitoring/points/{point_id}")
def point_detail(request: Request, point_id: int, ctx: PageCtx) -> Response:
    """One monitoring point: its set points, live value and status, its alarms and its trend
    (ECharts, from the series API, with the set points drawn as lines)."""
    p = points.get_point(ctx.db, ctx.scope, point_id)
    view = points.present_points(ctx.db, [p])[0]
    found, total = alarms.list_alarms(ctx.db, ctx.scope, point_id=p.id, state=None, limit=20)
    source = None
    if p.major_hazard_id is not None:
        try:
            source = get_source(ctx.db, ctx.scope, p.major_hazard_id)
        except NotFound:
            source = None
    set_points = [
        {
            "key": b.value,
            "name": f"{bound_label(b.value, p.kind)} {b.value.upper()}",
            "value": getattr(p, b.value),
            "level": b.level,
            "colour": SET_POINT_COLOURS[b.value],
        }
        for b in (Bound.HH, Bound.H, Bound.L, Bound.LL)
    ]
    chart = {
        "point_id": p.id,
        "unit": p.unit,
        "lines": [
            {"name": s["name"], "value": s["value"], "colour": s["colour"]}
            for s in set_points
            if s["value"] is not None
        ],
    }
    return page(
        request,
        ctx,
        "monitoring/point.html",
        {
            "p": view,
            "source": source,
            "set_points": set_points,
            "gas_detector": p.kind in GAS_DETECTOR_KINDS,
            "alarms": alarms.present_alarms(ctx.db, found),
            "alarm_total": total,
            "chart": chart,
            "back": f"/monitoring/points/{p.id}",
            **labels(),
        },
        active="monitoring",
    )


# --- 企业监测 -----------------------------------------------------------------------------------


@router.get("/monitoring/enterprise/{enterprise_id}")
def enterprise_monitoring(request: Request, enterprise_id: int, ctx: PageCtx) -> Response:
    """One enterprise's monitoring: its points with their live values, its live risk and its
    major hazard sources', its open alarms and the readings its gateway had refused."""
    ent = enterprise_in_scope(ctx.db, ctx.scope, enterprise_id)
    registered, _ = points.list_points(ctx.db, ctx.scope, enterprise_id=ent.id, limit=None)
    open_alarms, open_total = alarms.list_alarms(
        ctx.db, ctx.scope, enterprise_id=ent.id, state=alarms.OPEN, limit=PAGE_SIZE
    )
    # The enterprise is in the user's scope (checked above): its live risk is computed over
    # the enterprise alone rather than over the whole jurisdiction.
    live = board.live_risk(ctx.db, Scope.for_enterprise(ctx.user.id, ent.id))
    mine = next((r for r in live.enterprises if r.enterprise_id == ent.id), None)
    return page(
        request,
        ctx,
        "monitoring/enterprise.html",
        {
            "ent": ent,
            "ent_division": division_name(ctx.db, ent.division_code),
            "points": points.present_points(ctx.db, registered),
            "live": mine,
            "sources": [r for r in live.major_hazards if r.enterprise_id == ent.id],
            "level_badges": LEVEL_BADGES,
            "alarms": alarms.present_alarms(ctx.db, open_alarms),
            "open_total": open_total,
            "counts": board.board_counts(ctx.db, ctx.scope, enterprise_id=ent.id),
            "rejections": gateways.rejections(ctx.db, ctx.scope, ent.id),
            "rejection_labels": REASONS,
            "statuses": STATUSES,
            "back": f"/monitoring/enterprise/{ent.id}",
            **labels(),
        },
        active="monitoring",
    )


dossier.register(
    dossier.RecordLink(
        "monitoring_points",
        "监测点",
        50,
        count=lambda db, scope, eid: points.list_points(db, scope, enterprise_id=eid, limit=0)[1],
        href=lambda eid: f"/monitoring/enterprise/{eid}",
    )
)
dossier.register(
    dossier.RecordLink(
        "alarms",
        "未关闭的报警",
        60,
        count=lambda db, scope, eid: alarms.list_alarms(
            db, scope, enterprise_id=eid, state=alarms.OPEN, limit=0
        )[1],
        href=lambda eid: f"/monitoring/enterprise/{eid}#open-alarms",
    )
)
