"""Demo inspection checklists (隐患排查清单) and self-inspection tasks (自查任务): each chosen
enterprise keeps the checklists of its industry, with a record of past periods — most done on
time, a few late, some missed — and the task of the current period still open. Made through
the checklist service, so each has its audit records like real ones."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.clock import CST, today_in_china
from anjian.core.scope import Scope
from anjian.demo.generate import person_name
from anjian.enterprises.models import Enterprise
from anjian.hidden_hazards.checklists.rules import period_of, period_start
from anjian.hidden_hazards.checklists.schemas import ChecklistCreate, ChecklistItem
from anjian.hidden_hazards.checklists.service import create_checklist
from anjian.hidden_hazards.checklists.tasks import complete_task, ensure_task
from anjian.hidden_hazards.models import Checklist, InspectionTask

# (name, post, frequency, [(content 排查内容, basis 排查依据)]) by supervision category
Template = tuple[str, str, str, list[tuple[str, str]]]
TEMPLATES: dict[str, list[Template]] = {
    "coal_mine": [
        (
            "采煤工作面班前安全确认",
            "采煤队班组长",
            "daily",
            [
                ("回风隅角及工作面回风流甲烷浓度不超过 1.0%", "《煤矿安全规程》瓦斯防治"),
                (
                    "甲烷传感器位置、报警及断电功能正常",
                    "AQ 1029《煤矿安全监控系统及检测仪器使用管理规范》",
                ),
                ("支架初撑力、端面距符合作业规程", "《煤矿安全规程》采煤"),
                ("超前支护段顶板完好、无片帮", "《煤矿安全规程》顶板管理"),
            ],
        ),
        (
            "井下机电设备周检",
            "机电科",
            "weekly",
            [
                ("中央变电所防火门关闭，灭火器材齐全有效", "《煤矿安全规程》井下电气设备"),
                ("带式输送机跑偏、打滑、烟雾保护试验", "《煤矿安全规程》带式输送机"),
                ("副井提升机深度指示器失效保护试验", "《煤矿安全规程》提升装置"),
            ],
        ),
        (
            "矿井通风系统月度排查",
            "通风科",
            "monthly",
            [
                ("主要通风机反风设施完好", "《煤矿重大事故隐患判定标准》（应急管理部令第4号）"),
                ("采区通风系统稳定可靠，无串联通风", "《煤矿重大事故隐患判定标准》通风系统"),
                ("局部通风机双风机双电源自动切换试验", "《煤矿安全规程》局部通风"),
            ],
        ),
    ],
    "hazardous_chemicals": [
        (
            "罐区巡检",
            "储运车间操作工",
            "daily",
            [
                (
                    "储罐液位计、高液位报警与联锁投用正常",
                    "《危险化学品重大危险源监督管理暂行规定》",
                ),
                ("可燃、有毒气体检测报警器无故障、无屏蔽", "GB 50493-2019"),
                ("防火堤完好，排水阀常闭", "GB 50160-2008（2018年版）"),
            ],
        ),
        (
            "特殊作业票证周检",
            "安全环保部",
            "weekly",
            [
                ("动火作业票分级审批、气体分析合格", "GB 30871-2022 动火作业"),
                ("受限空间作业票、通风与监护落实", "GB 30871-2022 受限空间作业"),
                ("盲板抽堵作业有盲板位置图并编号", "GB 30871-2022 盲板抽堵作业"),
            ],
        ),
        (
            "重大危险源包保责任月度排查",
            "主要负责人",
            "monthly",
            [
                (
                    "重大危险源安全包保责任人履职记录",
                    "《危险化学品企业重大危险源安全包保责任制办法（试行）》",
                ),
                ("安全仪表系统（SIS）投用，旁路有审批", "GB/T 50770-2013"),
                ("应急预案演练按计划开展", "GB/T 29639-2020"),
            ],
        ),
    ],
    "metallurgy_trade": [
        (
            "煤气区域巡检",
            "炼铁车间",
            "daily",
            [
                ("煤气区域一氧化碳报警器运行正常", "GB 6222-2005《工业企业煤气安全规程》"),
                ("煤气设施水封、排水器水位正常", "GB 6222-2005"),
                ("作业人员携带便携式一氧化碳报警仪", "《冶金企业和有色金属企业安全生产规定》"),
            ],
        ),
        (
            "高温熔融金属吊运周检",
            "设备科",
            "weekly",
            [
                ("冶金起重机制动器、限位器完好", "GB 6067.5-2014"),
                ("熔融金属吊运路线下方无人员、无积水", "《工贸企业重大事故隐患判定标准》冶金行业"),
            ],
        ),
        (
            "有限空间与粉尘防爆月度排查",
            "安全科",
            "monthly",
            [
                (
                    "有限空间台账、警示标识与作业审批",
                    "《工贸企业有限空间作业安全规定》（应急管理部令第13号）",
                ),
                (
                    "除尘系统泄爆、隔爆装置完好，按规定清灰",
                    "《工贸企业粉尘防爆安全规定》（应急管理部令第6号）",
                ),
            ],
        ),
    ],
    "non_coal_mine": [
        (
            "尾矿库日常巡查",
            "尾矿车间",
            "daily",
            [
                ("干滩长度、库水位在设计允许范围", "GB 39496-2020《尾矿库安全规程》"),
                ("坝体无裂缝、渗漏、滑坡迹象", "GB 39496-2020"),
            ],
        ),
        (
            "采场与边坡周检",
            "采矿车间",
            "weekly",
            [
                ("露天边坡无浮石、台阶宽度符合设计", "GB 16423-2020《金属非金属矿山安全规程》"),
                ("爆破作业警戒、盲炮处理记录完整", "GB 6722-2014《爆破安全规程》"),
            ],
        ),
    ],
    "fireworks": [
        (
            "涉药工房班前检查",
            "生产车间",
            "daily",
            [
                ("工房定员、定量符合规定", "GB 11652-2012《烟花爆竹作业安全技术规程》"),
                ("防静电设施完好，作业人员着防静电服", "GB 11652-2012"),
            ],
        ),
        (
            "仓库与防雷设施月检",
            "仓储部",
            "monthly",
            [
                ("危险品仓库限量存放、分类分库", "GB 50161-2022《烟花爆竹工程设计安全标准》"),
                ("防雷装置检测在有效期内", "GB 50161-2022"),
            ],
        ),
    ],
    "other": [
        (
            "生产现场周检",
            "安全员",
            "weekly",
            [
                ("配电室电缆沟盖板齐全，绝缘用具在检验期内", "GB/T 13869-2017《用电安全导则》"),
                ("消防通道畅通、灭火器有效", "《中华人民共和国消防法》"),
            ],
        ),
        (
            "应急与培训月度检查",
            "安全管理部",
            "monthly",
            [
                ("特种作业人员持证上岗", "《特种作业人员安全技术培训考核管理规定》"),
                ("按计划开展应急演练并评估", "GB/T 29639-2020"),
            ],
        ),
    ],
}
# Past periods each checklist has a record of (the current one comes on top).
HISTORY = {"daily": 10, "weekly": 8, "monthly": 3}
NOTES = ["各项均正常", "已逐项检查，未见异常", "检查完毕，记录存档"]


def _past_periods(frequency: str, today: date, count: int) -> list[date]:
    """One day in each of the ``count`` periods before the current one, oldest first."""
    days: list[date] = []
    day = today
    for _ in range(count):
        day = period_start(period_of(frequency, day)[0]) - timedelta(days=1)
        days.append(day)
    return days[::-1]


def _done_at(rng: random.Random, start: date, due: date, late: bool) -> datetime:
    """A working-hours moment in the period (or one to three days after it, when late)."""
    if late:
        day = due + timedelta(days=rng.randint(1, 3))
    else:
        day = start + timedelta(days=rng.randint(0, (due - start).days))
    moment = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), CST)
    return moment.astimezone(UTC)


def choose(
    enterprises: Iterable[Enterprise], anchor_id: int | None, focus: set[str], seed: int
) -> list[Enterprise]:
    """The enterprises that keep checklists: the anchor (the demo enterprise user's), up to
    four working ones in each demo county, and about one in six of the others (at most 30)."""
    rng = random.Random(seed + 29)
    working = [e for e in enterprises if e.status == "operating" or e.id == anchor_id]
    chosen = [e for e in working if e.id == anchor_id]
    for county in sorted(focus):
        chosen += [e for e in working if e.division_code == county and e.id != anchor_id][:4]
    rest = [e for e in working if e not in chosen]
    chosen += rng.sample(rest, min(30, len(rest) // 6))
    return chosen


def load_checklists(
    session: Session,
    scope: Scope,
    enterprises: Iterable[Enterprise],
    seed: int,
    *,
    anchor_id: int | None,
) -> tuple[int, int]:
    """Checklists of their industry for ``enterprises`` (the demo enterprise user's first),
    each with its past tasks done, late or missed and its current task open. Nothing is made
    when the anchor already has checklists (a rerun). Returns (checklists, tasks) made."""
    if anchor_id is not None and session.scalar(
        select(Checklist.id).where(Checklist.enterprise_id == anchor_id).limit(1)
    ):
        return 0, 0
    rng = random.Random(seed + 23)
    today = today_in_china()
    lists = tasks = 0
    for ent in enterprises:
        anchor = ent.id == anchor_id
        # how diligent the enterprise is: most do their self-inspections, a few let them slip
        diligence = 0.9 if anchor else rng.choice([0.95, 0.9, 0.8, 0.65, 0.4])
        kind = ent.supervision_category if ent.supervision_category in TEMPLATES else "other"
        for name, post, frequency, items in TEMPLATES[kind]:
            maker = Actor(user_id=None, username=person_name(rng), division_code=ent.division_code)
            cl = create_checklist(
                session,
                maker,
                scope,
                ChecklistCreate(
                    enterprise_id=ent.id,
                    name=name,
                    post=post,
                    frequency=frequency,
                    items=[ChecklistItem(content=c, basis=b) for c, b in items],
                ),
            )
            past = _past_periods(frequency, today, HISTORY[frequency])
            cl.created_at = datetime.combine(
                period_start(period_of(frequency, past[0])[0]), time(9), CST
            )
            lists += 1
            tasks += 1  # the current period's, made with the checklist
            inspector = Actor(
                user_id=None, username=person_name(rng), division_code=ent.division_code
            )
            for n, day in enumerate(past):
                ensure_task(session, cl, day)
                tasks += 1
                period, due = period_of(frequency, day)
                roll = rng.random()
                # the anchor misses one so its record shows what a missed task looks like
                missed = (anchor and n == len(past) - 2) or (not anchor and roll > diligence)
                if missed:
                    continue
                late = not anchor and rng.random() < 0.08 and (today - due).days > 3
                found = rng.choices([0, 1, 2], [8, 2, 1])[0]
                task = session.scalars(
                    select(InspectionTask).where(
                        InspectionTask.checklist_id == cl.id, InspectionTask.period == period
                    )
                ).one()
                complete_task(
                    session,
                    inspector,
                    scope,
                    task.id,
                    note=f"发现隐患 {found} 处，已登记整改" if found else rng.choice(NOTES),
                    hazards_found=found,
                )
                task.done_at = _done_at(rng, period_start(period), due, late)
    return lists, tasks
