"""应急管理 console pages: the events (in progress first) with the 接报 form, one event's page
(its facts, command, timeline, tasks and dispatched resources, and the step forms offered only
while the event is in progress at the node that keeps it); the resources' page is in
:mod:`anjian.emergency.resource_pages`. Every form is the API's service call; a refusal is
shown at the form in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.errors import NotFound
from anjian.core.iam.deps import Context
from anjian.core.paging import PageNumber
from anjian.core.scope import Scope
from anjian.db import unit_of_work
from anjian.emergency import analysis, chemicals, events, orders, resources
from anjian.emergency.labels import ZONE_COLOURS
from anjian.emergency.rules.events import DISPATCH_NEXT, EVENT_TYPES, LEVEL_LABELS, SOURCES
from anjian.emergency.rules.resources import KIND_LABELS, ResourceStatus
from anjian.emergency.schemas import (
    DispatchCreate,
    DispatchStep,
    DispersionRequest,
    EventClose,
    EventCreate,
    LevelChange,
    OrderCreate,
    SituationReport,
    TaskCreate,
)
from anjian.web.forms import (
    FormRefusal,
    alert,
    call,
    division_choices,
    run_form,
    said_at_fields,
)
from anjian.web.layout import page, pager_of
from anjian.web.render import map_tiles, pages_router
from anjian.web.session import StaffPageCtx
from anjian.web.streams import watch

router = pages_router(Path(__file__).parent / "templates")
ACTIVE = "emergency"
PAGE_SIZE = 20
# Dispatched resources on the event's map, by step (released ones are back home: not shown).
DISPATCH_COLOURS = {"requested": "#9aa0ac", "dispatched": "#f76707", "arrived": "#2fb344"}
EVENT_COLOUR = "#d63939"
LEVEL_BADGES = {1: "bg-red text-white", 2: "bg-orange text-white", 3: "bg-yellow", 4: "bg-blue-lt"}
EVENT_LABELS = {
    "title": "事件名称",
    "event_type": "事件类型",
    "division_code": "行政区划",
    "place": "地点",
    "level": "响应级别",
    "source": "接报来源",
    "reporter": "报告人",
    "summary": "简要情况",
    "reason": "调整理由",
    "text": "续报内容",
    "owner": "负责人",
    "due_at": "完成时限",
    "resource_id": "资源",
    "state": "状态",
    "review": "总结评估",
}
ORDER_LABELS = {"title": "指令", "body": "具体要求", "target_division": "下达至"}
ANALYSIS_LABELS = {
    "chemical": "物质",
    "thresholds_mg_m3": "阈值",
    "release_g_s": "释放速率",
    "wind_speed_m_s": "风速",
    "wind_from_deg": "风向",
    "stability": "大气稳定度",
    "terrain": "地表",
    "lng": "泄漏位置",
}
# 风向 as officials say it: where the wind comes from, the 16 points of the compass.
WIND_FROM = [
    (f"{i * 22.5:g}", f"{name}风（{i * 22.5:g}°）")
    for i, name in enumerate(
        [
            "北",
            "北东北",
            "东北",
            "东东北",
            "东",
            "东东南",
            "东南",
            "南东南",
            "南",
            "南西南",
            "西南",
            "西西南",
            "西",
            "西西北",
            "西北",
            "北西北",
        ]
    )
]
STABILITY = {
    "A": "A 极不稳定",
    "B": "B 不稳定",
    "C": "C 弱不稳定",
    "D": "D 中性",
    "E": "E 弱稳定",
    "F": "F 稳定",
}


def _list_page(
    request: Request, ctx: Context, page_no: int, refusal: FormRefusal | None = None
) -> Response:
    refusal = refusal or FormRefusal()
    rows, total = events.list_events(
        ctx.db, ctx.scope, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    return page(
        request,
        ctx,
        "emergency/events.html",
        {
            "items": events.present(ctx.db, rows, detail=False),
            "level_badges": LEVEL_BADGES,
            "event_types": EVENT_TYPES,
            "sources": SOURCES,
            "levels": {str(k): v for k, v in LEVEL_LABELS.items()},
            "division_choices": division_choices(ctx, depth=1),
            "values": refusal.values or {"division_code": ctx.user.division_code},
            "errors": refusal.errors,
            "alert": alert(refusal.errors, EVENT_LABELS),
            "open_form": bool(refusal.errors) or request.query_params.get("new") == "1",
            **pager_of(total, page_no, PAGE_SIZE),
        },
        active=ACTIVE,
        status_code=refusal.status_code,
    )


@router.get("/emergency/events")
def event_list(request: Request, ctx: StaffPageCtx, page_no: PageNumber = 1) -> Response:
    """突发事件: the events in scope, those in progress first, and the 接报 form."""
    return _list_page(request, ctx, page_no)


@router.post("/emergency/events")
async def event_create(request: Request, ctx: StaffPageCtx) -> Response:
    """接报 through the API's service call; errors shown at the form."""

    def act(form: dict[str, str]) -> dict[str, str]:
        body: dict[str, Any] = {k: form.get(k, "") for k in ("title", "event_type", "place")}
        body |= {k: form.get(k, "") for k in ("division_code", "reporter", "summary")}
        body["level"] = form.get("level") or None
        body["source"] = form.get("source") or "call"

        def create(data: EventCreate) -> None:
            form["__id__"] = str(events.create_event(ctx.db, ctx.actor, ctx.scope, data).id)

        return call(EventCreate, body, create)

    values, errors, status = await run_form(request, ctx, act)
    if not errors:
        return RedirectResponse(f"/emergency/events/{values['__id__']}?done=create", 303)
    return _list_page(request, ctx, 1, FormRefusal("event", errors, values, status))


def _event_map(ctx: Context, view: Any) -> dict[str, Any]:
    """The event's map: where it happened and the dispatched resources still out."""
    points: list[dict[str, Any]] = []
    if view.lng is not None and view.lat is not None:
        points.append(
            {
                "id": view.uid,
                "name": view.title,
                "lng": view.lng,
                "lat": view.lat,
                "category": "事发地点",
                "status": view.level_label,
                "lines": [x for x in (view.place, view.enterprise_name) if x],
                "colour": EVENT_COLOUR,
                "radius": 11,
                "href": f"/emergency/events/{view.id}",
                "link_label": "事件详情",
            }
        )
    out = [d for d in view.dispatches if d.state in DISPATCH_COLOURS]
    placed = resources.by_uid(ctx.db, [d.resource_uid for d in out])
    for d in out:
        res = placed.get(d.resource_uid)
        if res is None or res.lng is None or res.lat is None:
            continue
        points.append(
            {
                "id": d.resource_uid,
                "name": d.resource_name,
                "lng": res.lng,
                "lat": res.lat,
                "category": KIND_LABELS.get(d.resource_kind, d.resource_kind),
                "status": d.state_label,
                "lines": [],
                "colour": DISPATCH_COLOURS[d.state],
                "href": f"/emergency/resources?kind={d.resource_kind}",
                "link_label": "查看应急资源",
            }
        )
    zones = None
    if view.analysis and view.analysis["answer"].get("zones"):
        features = view.analysis["answer"]["zones"]["features"]
        zones = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": f["geometry"],
                    "properties": {
                        "label": f["properties"]["label"],
                        "colour": ZONE_COLOURS[i % len(ZONE_COLOURS)],
                    },
                }
                for i, f in enumerate(features)
            ],
        }
    # The scene, not the jurisdiction: no division centroids pulling the frame out to the city.
    return {"tiles": map_tiles(), "places": [], "points": points, "zones": zones, "zoom": 13}


def _last_analysis(view: Any) -> dict[str, str]:
    """The analysis form filled with the last analysis's values (to run again, say with the
    wind turned)."""
    if not view.analysis:
        return {}
    q = view.analysis["request"]
    out = {k: f"{q[k]:g}" for k in ("release_g_s", "wind_speed_m_s", "wind_from_deg") if k in q}
    out |= {k: str(q[k]) for k in ("chemical", "stability", "terrain") if q.get(k)}
    out["thresholds"] = ", ".join(f"{t:g}" for t in q.get("thresholds_mg_m3", []))
    return out


def _revision(db: Any, ev: Any) -> str:
    return f"{events.revision(db, ev)}/{orders.revision(db, ev)}"


def _detail(
    request: Request, ctx: Context, event_id: int, refusal: FormRefusal | None = None
) -> Response:
    refusal = refusal or FormRefusal()
    ev = events.get_event(ctx.db, ctx.scope, event_id)
    view = orders.with_orders(ctx.db, ctx.scope, ctx.user, events.present(ctx.db, [ev])[0])
    here = ev.origin_node == get_settings().effective_node_id
    acting = here and ev.state == "active"
    called = {d.resource_uid for d in view.dispatches if d.state != "released"}
    choices: list[tuple[str, str]] = []
    if acting:
        if ev.lng is not None and ev.lat is not None:
            near = resources.nearest(ctx.db, ctx.scope, ev.lng, ev.lat, limit=20)
            choices = [
                (str(r.id), f"{r.name}（{KIND_LABELS.get(r.kind, r.kind)}，{d:g} km）")
                for d, r in near
                if r.status == ResourceStatus.AVAILABLE and r.uid not in called
            ]
        else:
            rows, _ = resources.list_resources(ctx.db, ctx.scope, status="available", limit=50)
            choices = [
                (str(r.id), f"{r.name}（{KIND_LABELS.get(r.kind, r.kind)}）")
                for r in rows
                if r.uid not in called
            ]
    # 下达指令 from any node that follows the event, to the divisions below the user's own.
    order_to: list[tuple[str, str]] = []
    if ev.state == "active" and not ctx.scope.is_enterprise:
        order_to = [c for c in division_choices(ctx, depth=2) if c[0] != ctx.user.division_code]
    labels = EVENT_LABELS | {"order": ORDER_LABELS, "analysis": ANALYSIS_LABELS}.get(
        refusal.form, {}
    )
    return page(
        request,
        ctx,
        "emergency/event.html",
        {
            "e": view,
            "acting": acting,
            "kept_at": "" if here else ev.origin_node,
            "level_badges": LEVEL_BADGES,
            "levels": LEVEL_LABELS,
            "resource_choices": choices,
            "order_to": order_to,
            "map": _event_map(ctx, view),
            "zone_colours": ZONE_COLOURS,
            "analysis_values": (
                refusal.values if refusal.form == "analysis" else _last_analysis(view)
            ),
            "chemicals": [c.name for c in chemicals.all_chemicals()],
            "wind_from": WIND_FROM,
            "stability": STABILITY,
            "revision": _revision(ctx.db, ev),
            "next_steps": DISPATCH_NEXT,
            "step_labels": {"dispatched": "出发", "arrived": "到达", "released": "返回"},
            "form": refusal.form,
            "errors": refusal.errors,
            "alert": said_at_fields(refusal.errors, labels),
            "values": refusal.values,
            "done": request.query_params.get("done", ""),
        },
        active=ACTIVE,
        status_code=refusal.status_code,
    )


@router.get("/emergency/events/{event_id:int}")
def event_detail(request: Request, event_id: int, ctx: StaffPageCtx) -> Response:
    """One event: facts, command, timeline, tasks, dispatched resources and the next steps."""
    return _detail(request, ctx, event_id)


def _revision_of(event_id: int) -> Callable[[Scope], str]:
    def read(scope: Scope) -> str:
        with unit_of_work(read_only=True) as db:
            return _revision(db, events.get_event(db, scope, event_id))

    return read


@router.get("/emergency/events/{event_id:int}/stream")
async def event_stream(request: Request, event_id: int, since: str = "") -> Response:
    """The event page's live feed (text/event-stream): ``changed`` once the event, its
    timeline, tasks, dispatches, orders or receipts change — here or arriving from another
    node — after which the page reloads those parts (static/live.js) and listens again."""
    back = f"/emergency/events/{event_id}"
    return watch(request, _revision_of(event_id), since=since[:100], back=back)


# Each step form: the API model, how the form's fields make its body, and the service call.
_STEPS: dict[str, tuple[type[BaseModel], Callable[[dict[str, str]], dict[str, Any]], Any]] = {
    "level": (
        LevelChange,
        lambda f: {"level": f.get("level"), "reason": f.get("reason", "")},
        events.change_level,
    ),
    "report": (SituationReport, lambda f: {"text": f.get("text", "")}, events.report),
    "task": (
        TaskCreate,
        lambda f: {"title": f.get("title", ""), "owner": f.get("owner", "")},
        events.add_task,
    ),
    "dispatch": (DispatchCreate, lambda f: {"resource_id": f.get("resource_id")}, events.dispatch),
    "close": (EventClose, lambda f: {"review": f.get("review", "")}, events.close_event),
}


@router.post("/emergency/events/{event_id:int}/{action}")
async def event_step(request: Request, event_id: int, action: str, ctx: StaffPageCtx) -> Response:
    """A step of the event from its page: 调整级别, 续报, 布置任务, 调度资源, 结束 — and
    ``done`` (a task, ``task_id``), ``step`` (a dispatch, ``dispatch_id`` and ``state``),
    ``order`` (下达指令), ``sign`` (签收 an order, ``order``) or ``analysis`` (扩散分析)."""
    if action not in (*_STEPS, "done", "step", "order", "sign", "analysis"):
        raise NotFound(f"未知操作: {action}")

    def act(form: dict[str, str]) -> dict[str, str]:
        if action == "done":
            events.finish_task(ctx.db, ctx.actor, ctx.scope, event_id, _int(form, "task_id"))
            return {}
        if action == "order":
            body = {k: form.get(k, "") for k in ("title", "body", "target_division")}
            return call(
                OrderCreate,
                body,
                lambda data: orders.issue(ctx.db, ctx.actor, ctx.scope, ctx.user, event_id, data),
            )
        if action == "analysis":
            return call(
                DispersionRequest,
                _analysis_body(form),
                lambda data: analysis.analyse(ctx.db, ctx.actor, ctx.scope, event_id, data),
            )
        if action == "sign":
            uid, note = form.get("order", ""), form.get("note", "")
            orders.sign(ctx.db, ctx.actor, ctx.scope, ctx.user, event_id, uid, note)
            return {}
        if action == "step":
            return call(
                DispatchStep,
                {"state": form.get("state", "")},
                lambda data: events.dispatch_step(
                    ctx.db, ctx.actor, ctx.scope, event_id, _int(form, "dispatch_id"), data
                ),
            )
        model, body, step = _STEPS[action]
        return call(
            model, body(form), lambda data: step(ctx.db, ctx.actor, ctx.scope, event_id, data)
        )

    values, errors, status = await run_form(request, ctx, act)
    if errors:
        return _detail(request, ctx, event_id, FormRefusal(action, errors, values, status))
    return RedirectResponse(f"/emergency/events/{event_id}?done={action}", 303)


def _analysis_body(form: dict[str, str]) -> dict[str, Any]:
    """The 扩散分析 form as the API's body: a chemical (its default levels) or thresholds
    typed as a list (逗号分隔), the release and the weather."""
    fields = ("release_g_s", "wind_speed_m_s", "wind_from_deg", "stability", "terrain")
    body: dict[str, Any] = {k: form[k] for k in fields if form.get(k)}  # blank: the default
    if form.get("chemical"):
        body["chemical"] = form["chemical"]
    else:
        body["thresholds_mg_m3"] = [
            t for t in form.get("thresholds", "").replace("，", ",").split(",") if t.strip()
        ]
    return body


def _int(form: dict[str, str], name: str) -> int:
    value = form.get(name, "")
    if not value.isdigit() or len(value) > 9:
        raise NotFound(f"{name} 无效: {value[:20]}")
    return int(value)
