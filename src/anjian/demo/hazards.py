"""Demo hidden hazards (隐患): a ledger that looks lived in — hazards at every stage of the
closed loop, a few major ones with governance plans, some overdue — made through the service,
so each has its steps, audit records and outbox rows like real ones."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.clock import CST, today_in_china
from anjian.core.scope import Scope
from anjian.db import utcnow
from anjian.demo.generate import person_name
from anjian.enterprises.models import Enterprise
from anjian.hidden_hazards import service
from anjian.hidden_hazards.schemas import (
    GovernancePlanUpdate,
    HazardCreate,
    HazardRegistrationCreate,
)

# (place, description, category) by supervision category
FINDINGS: dict[str, list[tuple[str, str, str]]] = {
    "coal_mine": [
        ("主斜井皮带机", "皮带机跑偏、打滑保护失效", "site"),
        ("井下中央变电所", "变电所防火门未关闭，灭火器压力不足", "site"),
        ("综采工作面", "回风隅角瓦斯传感器位置不符合规定", "site"),
        ("安全管理", "部分特种作业人员证件过期", "management"),
        ("副井绞车房", "深度指示器失效保护未试验", "site"),
    ],
    "hazardous_chemicals": [
        ("罐区", "储罐液位计与高液位报警未联锁", "site"),
        ("装卸区", "液氨装卸未使用万向管道充装系统", "site"),
        ("生产车间", "可燃气体检测报警器未定期检定", "site"),
        ("安全管理", "动火作业票填写不全", "management"),
    ],
    "other": [
        ("除尘系统", "干式除尘器未设置泄爆装置", "site"),
        ("配电室", "电缆沟盖板缺失", "site"),
        ("安全管理", "未按规定开展应急演练", "management"),
        ("有限空间", "有限空间未设置警示标识", "site"),
    ],
}
MAJOR = {
    "coal_mine": "煤矿重大事故隐患判定标准（应急管理部令第4号）第五项：通风系统不完善、不可靠",
    "hazardous_chemicals": "化工和危险化学品生产经营单位重大生产安全事故隐患判定标准第七项",
    "other": "工贸企业重大事故隐患判定标准第十一条：粉尘防爆",
}
PLAN = GovernancePlanUpdate(
    goal="彻底消除该重大事故隐患，恢复安全生产条件",
    measures="停产整改，委托有资质单位设计并实施改造",
    funds="专项资金已列入年度安全投入计划",
    organisation="主要负责人牵头，安全科、生产科负责实施",
    deadline="30 日内完成并申请验收",
    safety_measures="停用相关设备，撤出作业人员，设置警戒",
    emergency_plan="执行企业综合应急预案及相应专项预案",
)


def load_hazards(
    session: Session, scope: Scope, enterprises: list[Enterprise], seed: int, count: int = 80
) -> int:
    """Report ``count`` hazards at enterprises of the demo and move each a random way along
    its loop; some become overdue. Returns how many were made."""
    rng = random.Random(seed + 7)
    today = today_in_china()
    made = 0
    for i in range(min(count, len(enterprises) * 2)):
        ent = enterprises[i % len(enterprises)] if i < 20 else rng.choice(enterprises)
        kind = ent.supervision_category if ent.supervision_category in FINDINGS else "other"
        place, description, category = rng.choice(FINDINGS[kind])
        finder = Actor(user_id=None, username=person_name(rng), division_code=ent.division_code)
        official = Actor(user_id=None, username=person_name(rng), division_code=ent.division_code)
        found_at = utcnow() - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 12))
        hz = service.report_hazard(
            session,
            finder,
            scope,
            HazardCreate(
                enterprise_id=ent.id,
                place=place,
                description=description,
                category=category,
                found_at=found_at,
            ),
        )
        made += 1
        stage = rng.choices(
            ["found", "registered", "rectifying", "rectified", "closed"], [1, 2, 3, 2, 6]
        )[0]
        if stage == "found":
            continue
        major = rng.random() < 0.08
        service.register_hazard(
            session,
            official,
            scope,
            hz.id,
            HazardRegistrationCreate(
                grade="major" if major else "general",
                major_criterion=MAJOR[kind] if major else "",
                deadline=today + timedelta(days=rng.randint(3, 30)),
                responsible=person_name(rng),
                measures="按规定整改并留存整改前后影像资料",
                funds_cny=float(rng.choice([0, 500, 2000, 8000, 50000])),
            ),
        )
        if major:
            service.set_plan(session, official, scope, hz.id, PLAN)
        if stage == "registered":
            if rng.random() < 0.4:  # the deadline passed while nothing happened
                hz.deadline = _past_deadline(rng, found_at, today) or hz.deadline
            continue
        service.start_rectification(session, finder, scope, hz.id)
        if stage == "rectifying":
            if rng.random() < 0.3:
                hz.deadline = _past_deadline(rng, found_at, today) or hz.deadline
            continue
        service.finish_rectification(session, finder, scope, hz.id, "已按措施整改完毕，附整改照片")
        if stage == "closed":
            service.accept(session, official, scope, hz.id, "现场复查合格，同意销号")
    service.flag_overdue(session, Actor(user_id=None, username="system"), today)
    return made


def _past_deadline(rng: random.Random, found_at: datetime, today: date) -> date | None:
    """A deadline already passed (逾期) yet after the day the hazard was found — a rectification
    is never due before the hazard was discovered; None when it was found only yesterday."""
    found = found_at.astimezone(CST).date()
    room = (today - found).days - 1  # whole days strictly between discovery and today
    if room < 1:
        return None
    return today - timedelta(days=rng.randint(1, min(10, room)))
