"""Pure rules of hidden-hazard governance (隐患排查治理): the closed loop 排查 → 登记 → 整改 →
验收 → 销号 as a state machine, who may accept, overdue, and the code lists.

Basis: SAWS Order No. 16 (安全生产事故隐患排查治理暂行规定) and Safety Production Law Art. 41
(REFERENCE.md §3): a major hazard (重大事故隐患) is reported to the agency at once, governed by
a plan with goals, measures, funds, deadline, people, safety measures and an emergency plan,
and written off only after acceptance; the acceptance of a major hazard by the agency is this
platform's rule (the national wording of Order 16 Art. 23 is unverified)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class HazardState(StrEnum):
    """Where a hidden hazard stands in its closed loop."""

    FOUND = "found"  # 排查发现，待登记
    REGISTERED = "registered"  # 已登记，待整改
    RECTIFYING = "rectifying"  # 整改中
    RECTIFIED = "rectified"  # 整改完成，待验收
    CLOSED = "closed"  # 验收通过，已销号


STATE_LABELS = {
    HazardState.FOUND: "待登记",
    HazardState.REGISTERED: "已登记",
    HazardState.RECTIFYING: "整改中",
    HazardState.RECTIFIED: "待验收",
    HazardState.CLOSED: "已销号",
}


class HazardAction(StrEnum):
    """A step of the loop."""

    REPORT = "report"  # 排查上报
    REGISTER = "register"  # 登记 (grade, deadline, person, measures)
    START = "start"  # 开始整改
    FINISH = "finish"  # 整改完成，申请验收
    ACCEPT = "accept"  # 验收通过并销号
    REJECT = "reject"  # 验收不通过，退回整改


ACTION_LABELS = {
    HazardAction.REPORT: "排查上报",
    HazardAction.REGISTER: "登记",
    HazardAction.START: "整改",
    HazardAction.FINISH: "整改完成",
    HazardAction.ACCEPT: "验收销号",
    HazardAction.REJECT: "验收退回",
}

TRANSITIONS: dict[tuple[HazardState | None, HazardAction], HazardState] = {
    (None, HazardAction.REPORT): HazardState.FOUND,
    (HazardState.FOUND, HazardAction.REGISTER): HazardState.REGISTERED,
    (HazardState.REGISTERED, HazardAction.START): HazardState.RECTIFYING,
    (HazardState.RECTIFYING, HazardAction.FINISH): HazardState.RECTIFIED,
    (HazardState.RECTIFIED, HazardAction.ACCEPT): HazardState.CLOSED,
    (HazardState.RECTIFIED, HazardAction.REJECT): HazardState.RECTIFYING,
}


class HazardGrade(StrEnum):
    """一般隐患 or 重大隐患 (Order 16 Art. 3)."""

    GENERAL = "general"
    MAJOR = "major"


GRADES = {HazardGrade.GENERAL: "一般隐患", HazardGrade.MAJOR: "重大隐患"}
# The step recorded when the overdue job marks a hazard (not a move of the loop).
OVERDUE_ACTION = "overdue"
CATEGORIES = {"management": "基础管理类", "site": "生产现场类"}
SOURCES = {
    "self_check": "企业自查",
    "inspection": "监管检查",
    "report": "举报",
    "other": "其他",
}
# The six parts of a major hazard's governance plan (Order 16 Art. 15 ¶2) and the safety
# measures and emergency plan; all are required before rectification starts.
PLAN_FIELDS = {
    "goal": "治理的目标和任务",
    "measures": "采取的方法和措施",
    "funds": "经费和物资的落实",
    "organisation": "负责治理的机构和人员",
    "deadline": "治理的时限和要求",
    "safety_measures": "安全措施",
    "emergency_plan": "应急预案",
}


class IllegalTransition(Exception):
    """A step the loop does not allow from where the hazard stands."""


def next_state(state: HazardState | None, action: HazardAction) -> HazardState:
    """The state after ``action``, or :class:`IllegalTransition` with a message for users."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        where = STATE_LABELS[state] if state is not None else "未上报"
        allowed = [ACTION_LABELS[a] for (s, a) in TRANSITIONS if s == state]
        hint = f"，当前可执行: {'、'.join(allowed)}" if allowed else ""
        raise IllegalTransition(
            f"隐患处于“{where}”状态，不能执行“{ACTION_LABELS[action]}”{hint} "
            f"(cannot {action.value} a hazard that is {state.value if state else 'new'})"
        )
    return target


def missing_plan_parts(plan: dict[str, str] | None) -> list[str]:
    """The parts of a governance plan (治理方案) still empty, in the plan's order."""
    plan = plan or {}
    return [key for key in PLAN_FIELDS if not str(plan.get(key) or "").strip()]


@dataclass(frozen=True)
class Acceptor:
    """Who asks to accept (验收) a rectified hazard."""

    username: str
    is_agency: bool  # an official of a supervising agency (not the enterprise)


def acceptance_problem(grade: str, rectified_by: str, acceptor: Acceptor) -> str | None:
    """Why ``acceptor`` has no right to accept the rectification, or None: the rectifier never
    accepts their own work; a major hazard is accepted by the agency."""
    if acceptor.username == rectified_by:
        return "验收人不能是整改人 (the rectifier cannot accept their own work)"
    if grade == HazardGrade.MAJOR and not acceptor.is_agency:
        return "重大隐患须由监管部门验收 (a major hazard is accepted by the agency)"
    return None


def supervision_blocks_acceptance(grade: str, supervision_open: bool) -> str | None:
    """Why the hazard cannot be written off yet whoever accepts it, or None: a major hazard
    under 挂牌督办 is written off only once the issuing agency has closed its order (its
    acceptance reaches this node as the order's closure) — a state, not a question of rights."""
    if grade == HazardGrade.MAJOR and supervision_open:
        return (
            "该重大隐患正被挂牌督办，须待督办机关验收并解除督办后销号 "
            "(under a supervision order: the issuing agency must close it first)"
        )
    return None


OPEN_STATES = frozenset({HazardState.REGISTERED, HazardState.RECTIFYING})


def is_overdue(state: str, deadline: date | None, today: date) -> bool:
    """A hazard is overdue (逾期) when its deadline has passed and it is still being
    rectified; one rectified in time and awaiting acceptance is not."""
    return deadline is not None and state in OPEN_STATES and today > deadline


def rectification_rate(found: int, closed: int) -> float | None:
    """整改率: hazards written off over hazards found, as a percentage (None when none found)."""
    return round(100.0 * closed / found, 1) if found else None
