"""Demo emergency events (突发事件) at the first demo county: one in progress — received by the
county's duty desk by telephone (电话接报), passed on to the city, with its command, tasks,
resources dispatched and a 续报 — and one closed weeks ago with its review (总结评估). Each step
goes through the duty and event services (audited, scoped, synced); then, as the accidents demo
stamps its reporting chains, the lines the steps wrote are put at the minutes they happened
after the call (the services stamp them now)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.clock import CST, today_in_china
from anjian.core.scope import Scope
from anjian.core.sync.outbox import record_change, record_changes
from anjian.db import utcnow
from anjian.emergency import events
from anjian.emergency.duty.receipts import pass_on, receive_call
from anjian.emergency.duty.schemas import CallReceipt, PassOn
from anjian.emergency.models import EmergencyEvent, EmergencyResource, EventDispatch, EventEntry
from anjian.emergency.schemas import (
    CommandGroup,
    CommandSet,
    DispatchCreate,
    DispatchStep,
    EventClose,
    SituationReport,
    TaskCreate,
)
from anjian.emergency.sync import DISPATCH_ENTITY, ENTRY_ENTITY, EVENT_ENTITY, TASK_ENTITY
from anjian.enterprises.models import Enterprise

RECEIVED_AGO = timedelta(minutes=100)  # the event in progress came in this long before the load
CLOSED_DAYS_AGO = 23


@dataclass(frozen=True)
class Scene:
    """Where the demo's events happen and who handles them: the county desk (its official's
    actor and scope), the names the texts use, and the resources called."""

    actor: Actor
    scope: Scope
    region: str  # 应县
    city_desk: str  # 朔州市应急管理局值班室
    town: str  # the town down the wind of the site (its targets' names start with it)
    commander: str
    site_commander: str
    site: Enterprise  # the enterprise of the event in progress
    place: str  # its unit: 液氯库房
    chemical: str | None  # what leaks there (None: the event is a fire)
    other: Enterprise  # the enterprise of the closed event
    site_team: EmergencyResource
    county_team: EmergencyResource  # the county's hazardous-chemicals team
    mine_team: EmergencyResource
    medical: EmergencyResource
    evacuated: list[str]  # the protection targets down the wind


class _Timeline:
    """Puts what an event's steps wrote at ``received_at`` + minutes."""

    def __init__(self, session: Session, sc: Scene, ev: EmergencyEvent, since: datetime) -> None:
        self.session, self.sc, self.ev, self.since = session, sc, ev, since

    def at(self, minutes: int) -> datetime:
        return self.ev.received_at + timedelta(minutes=minutes)

    def stamp(self, minutes: int) -> None:
        """The timeline lines written since the load began happened ``minutes`` after the
        call; so did a release or a closure among them."""
        when = self.at(minutes)
        rows = list(
            self.session.scalars(
                select(EventEntry).where(
                    EventEntry.event_uid == self.ev.uid, EventEntry.at >= self.since
                )
            )
        )
        for row in rows:
            row.at = when
        if rows:
            record_changes(self.session, rows, entity=ENTRY_ENTITY)
        released = [
            d
            for d in self.session.scalars(
                select(EventDispatch).where(EventDispatch.event_uid == self.ev.uid)
            )
            if d.times.get("released", "") >= self.since.isoformat()
        ]
        for row in released:
            row.times = {**row.times, "released": when.isoformat()}
        if released:
            record_changes(self.session, released, entity=DISPATCH_ENTITY)
        if self.ev.closed_at is not None and self.ev.closed_at >= self.since:
            self.ev.closed_at = when
            record_change(self.session, self.ev, entity=EVENT_ENTITY)

    def dispatch(
        self, resource: EmergencyResource, steps: list[tuple[str, int]], note: str
    ) -> None:
        """Call ``resource`` and move it through ``steps`` (state, minutes after the call)."""
        sc = self.sc
        row = events.dispatch(
            self.session,
            sc.actor,
            sc.scope,
            self.ev.id,
            DispatchCreate(resource_id=resource.id, note=note),
        )
        first = steps[0][1] - 1
        row.times = {"requested": self.at(first).isoformat()}
        record_change(self.session, row, entity=DISPATCH_ENTITY)
        self.stamp(first)
        for state, minutes in steps:
            events.dispatch_step(
                self.session, sc.actor, sc.scope, self.ev.id, row.id, DispatchStep(state=state)
            )
            row.times = {**row.times, state: self.at(minutes).isoformat()}
            record_change(self.session, row, entity=DISPATCH_ENTITY)
            self.stamp(minutes)


def _receive(
    session: Session, sc: Scene, when: datetime, call: CallReceipt, passed_after: int
) -> EmergencyEvent:
    """The desk takes the call (the event opens) and passes it on to the city."""
    call = call.model_copy(update={"received_at": when})
    receipt, ev = receive_call(session, sc.actor, sc.scope, call)
    assert ev is not None
    passed = PassOn(passed_to=sc.city_desk, passed_on_at=when + timedelta(minutes=passed_after))
    pass_on(session, sc.actor, sc.scope, receipt.id, passed)
    return ev


def _command(
    session: Session, sc: Scene, event_id: int, groups: list[CommandGroup], site: str = ""
) -> None:
    """总指挥 the county bureau's head; 现场指挥 ``site`` or the fire-rescue brigade's."""
    site = site or sc.site_commander
    data = CommandSet(commander=sc.commander, site_commander=site, groups=groups)
    events.set_command(session, sc.actor, sc.scope, event_id, data)


def load_events(session: Session, scene: Scene) -> int:
    """The event in progress at ``scene.site`` and the closed one at ``scene.other``; how many
    events were opened."""
    since = utcnow()
    _in_progress(session, scene, since)
    _closed(session, scene, since)
    return 2


def _in_progress(session: Session, sc: Scene, since: datetime) -> None:
    site, chem = sc.site, sc.chemical
    what = f"{chem}泄漏" if chem else "火情"
    content = (
        f"{sc.place}一台{chem}储罐出料阀门法兰处发生泄漏，现场有刺激性气味，企业已启动应急预案、"
        "撤离作业人员并组织专职队处置，暂无人员伤亡。"
        if chem
        else f"{sc.place}起火，企业专职队正在扑救，已撤离作业人员，暂无人员伤亡。"
    )
    ev = _receive(
        session,
        sc,
        utcnow() - RECEIVED_AGO,
        CallReceipt(
            caller=f"{site.name}安全负责人{site.safety_manager}",
            content=content,
            title=f"{site.name}{what}",
            event_type="chemical_leak" if chem else "fire_explosion",
            enterprise_id=site.id,
            place=f"{site.name}{sc.place}",
            lng=site.lng,
            lat=site.lat,
            level=4,
        ),
        passed_after=12,
    )
    event_id = ev.id
    line = _Timeline(session, sc, ev, since)
    line.dispatch(
        sc.site_team,
        [("dispatched", 6), ("arrived", 9)],
        "企业专职队，就地处置",
    )
    line.dispatch(
        sc.county_team,
        [("dispatched", 22), ("arrived", 47)],
        "携带堵漏器材、防化服和气体检测仪",
    )
    _command(
        session,
        sc,
        event_id,
        [
            CommandGroup(
                name="抢险救援组",
                lead=sc.county_team.contact_name,
                members=[sc.county_team.name, sc.site_team.name],
            ),
            CommandGroup(
                name="疏散警戒组",
                lead=f"{sc.town}镇人民政府",
                members=[f"{sc.region}公安局{sc.town}派出所", f"{sc.town}镇人民政府"],
            ),
            CommandGroup(name="环境监测组", lead=f"{sc.region}生态环境分局"),
            CommandGroup(name="医疗救护组", lead=sc.medical.name, members=[sc.medical.name]),
        ],
    )
    line.stamp(25)
    targets = "、".join(sc.evacuated[:3])
    evacuate = events.add_task(
        session,
        sc.actor,
        sc.scope,
        event_id,
        TaskCreate(
            title=f"疏散转移下风向{targets}等处人员" if targets else "疏散转移下风向人员",
            owner=f"{sc.town}镇人民政府",
            due_at=line.at(90),
        ),
    )
    line.stamp(30)
    events.add_task(
        session,
        sc.actor,
        sc.scope,
        event_id,
        TaskCreate(
            title="在厂界及下风向布点监测有毒气体浓度，每 30 分钟报告一次",
            owner=f"{sc.region}生态环境分局",
            due_at=line.at(6 * 60),
        ),
    )
    line.stamp(32)
    events.finish_task(session, sc.actor, sc.scope, event_id, evacuate.id)
    evacuate.done_at = line.at(68)
    record_change(session, evacuate, entity=TASK_ENTITY)
    line.stamp(68)
    report = (
        f"续报：泄漏点为{sc.place}{chem}储罐出料阀门法兰，企业专职队已关闭上游阀门，"
        f"县危化品救援队用堵漏夹具封堵，泄漏基本控制；下风向{targets or '居民'}等处人员已疏散，"
        "无人员伤亡。厂界仍可检出低浓度有毒气体，继续监测、喷淋稀释。"
        if chem
        else "续报：明火已扑灭，正在清理火场、排查复燃隐患；无人员伤亡。"
    )
    events.report(session, sc.actor, sc.scope, event_id, SituationReport(text=report))
    line.stamp(75)


# (event type, what happened, where, the call, the 续报, the review, the task) by category
CLOSED: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "mine": (
        "mine",
        "井下局部冒顶",
        "综采工作面",
        "综采工作面机尾处发生局部冒顶，1 名作业人员被困，矿方已组织自救并请求矿山救护队支援。",
        "续报：被困人员位置已探明，生命体征平稳，救护队正在支护、清理冒落矸石。",
        "总结评估：被困人员于事发后约 3 小时安全救出，轻伤送医。直接原因为机尾处顶板破碎、"
        "超前支护不到位；矿方响应及时，救护队 38 分钟到达。已责令企业停止该工作面作业、"
        "加强顶板管理，并将处置情况纳入应急预案修订。",
        "组织搜救被困人员",
    ),
    "other": (
        "fire_explosion",
        "仓库火灾",
        "成品仓库",
        "成品仓库起火，有浓烟，企业已组织员工撤离并用消防器材扑救。",
        "续报：明火已扑灭，过火面积约 200 平方米，无人员伤亡，正在排查复燃隐患。",
        "总结评估：无人员伤亡，直接原因为仓库内电气线路老化短路。企业初期处置基本得当，"
        "但仓库消防通道被货物占用，延误了扑救。已责令整改并组织全县仓储场所消防安全检查。",
        "清理火场、看护防止复燃",
    ),
}


def _closed(session: Session, sc: Scene, since: datetime) -> None:
    ent = sc.other
    mine = ent.supervision_category in ("coal_mine", "non_coal_mine")
    kind, what, where, call, update, review, task_title = CLOSED["mine" if mine else "other"]
    if ent.supervision_category == "non_coal_mine":
        where = "采场"
    day = today_in_china() - timedelta(days=CLOSED_DAYS_AGO)
    received = datetime.combine(day, time(14, 20), tzinfo=CST).astimezone(UTC)
    ev = _receive(
        session,
        sc,
        received,
        CallReceipt(
            caller=f"{ent.name}调度室",
            content=call,
            title=f"{ent.name}{what}",
            event_type=kind,
            enterprise_id=ent.id,
            place=f"{ent.name}{where}",
            lng=ent.lng,
            lat=ent.lat,
            level=4,
        ),
        passed_after=15,
    )
    event_id = ev.id
    line = _Timeline(session, sc, ev, since)
    team = sc.mine_team if mine else sc.county_team
    line.dispatch(team, [("dispatched", 12), ("arrived", 50)], "")
    _command(
        session,
        sc,
        event_id,
        [
            CommandGroup(name="抢险救援组", lead=team.contact_name, members=[team.name]),
            CommandGroup(name="医疗救护组", lead=sc.medical.name, members=[sc.medical.name]),
        ],
        site=f"{team.contact_name}（{team.name}）"[:64],
    )
    line.stamp(20)
    task = events.add_task(
        session,
        sc.actor,
        sc.scope,
        event_id,
        TaskCreate(title=task_title, owner=team.name[:64], due_at=line.at(240)),
    )
    line.stamp(25)
    events.report(session, sc.actor, sc.scope, event_id, SituationReport(text=update))
    line.stamp(120)
    events.finish_task(session, sc.actor, sc.scope, event_id, task.id)
    task.done_at = line.at(190)
    record_change(session, task, entity=TASK_ENTITY)
    line.stamp(190)
    events.close_event(session, sc.actor, sc.scope, event_id, EventClose(review=review))
    line.stamp(320)
