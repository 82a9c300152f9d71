"""Sample records shared by the tests (and the benchmarks): the personas' two enterprises (and
which persona sees which), a major hazard source of the 应县 mine and accident reports, as the
API or the services take them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from anjian.db import utcnow
from anjian.enterprises.rules import compose_uscc
from anjian.enterprises.schemas import EnterpriseCreate
from anjian.web.render import CST


def mine_enterprise() -> EnterpriseCreate:
    """The coal mine of 应县 (the personas' ``ying_mine``, where ``qiye`` works)."""
    return EnterpriseCreate(
        uscc=compose_uscc("140622", "MA0K0001"),
        name="应县金鼎煤业有限公司",
        division_code="140622",
        supervision_category="coal_mine",
        industry_code="B06",
        scale="medium",
        legal_rep="王建国",
        legal_rep_phone="13912345678",
        safety_manager="李安全",
        safety_manager_phone="13698765432",
        address="应县南河种镇",
        lng=113.19,
        lat=39.55,
    )


def chem_enterprise() -> EnterpriseCreate:
    """The chemical plant of 山阴县 (the personas' ``shan_chem``)."""
    return EnterpriseCreate(
        uscc=compose_uscc("140621", "MA0K0002"),
        name="山阴县晋北化工有限公司",
        division_code="140621",
        supervision_category="hazardous_chemicals",
        industry_code="C26",
        scale="small",
        legal_rep="赵化工",
        legal_rep_phone="13711112222",
        address="山阴县岱岳镇",
        lng=112.82,
        lat=39.52,
    )


# Which of the two enterprises each persona (tests/conftest.py) sees, by 属地管理: a division
# sees itself and everything below; the coal-mine inspection bureau the coal mines of its area
# (not the chemical plant); an enterprise user its own.
VISIBLE_ENTERPRISES = {
    "admin": {"ying_mine", "shan_chem"},
    "sheng": {"ying_mine", "shan_chem"},
    "shuozhou": {"ying_mine", "shan_chem"},
    "yingxian": {"ying_mine"},
    "shanyin": {"shan_chem"},
    "jianchaju": {"ying_mine"},
    "qiye": {"ying_mine"},
}


# 重大危险源: the three people answerable for a source (主要负责人, 技术负责人, 操作负责人).
PERSONS = {
    "responsible_main": "王建国",
    "responsible_technical": "李工",
    "responsible_operational": "张班长",
}


def unit(*chemicals: dict[str, Any], name: str = "液氯液氨罐区", **extra: Any) -> dict[str, Any]:
    """A storage unit of a major hazard source holding ``chemicals``."""
    return {"name": name, "kind": "storage", "chemicals": list(chemicals), **extra}


# 8 t of chlorine and 5 t of ammonia: Σq/Q = 2.1, a 三级 source with 60 people within 500 m.
CHLORINE_AND_AMMONIA = unit({"name": "液氯", "quantity_t": 8}, {"name": "液氨", "quantity_t": 5})


def major_hazard_source(node: Any, enterprise: str = "ying_mine", **extra: Any) -> dict[str, Any]:
    """The body of a new major hazard source of the personas' ``enterprise`` (``extra`` on top)."""
    return {
        "enterprise_id": node.enterprises[enterprise],
        "name": "液氯液氨储罐区",
        "people_within_500m": 60,
        "units": [CHLORINE_AND_AMMONIA],
        **PERSONS,
        **extra,
    }


def accident_report(**extra: Any) -> dict[str, Any]:
    """The body of a first report (初报) of a roof fall at the 应县 mine: 2 dead, 1 missing, 1
    seriously injured (``extra`` on top)."""
    return {
        "occurred_at": "2026-11-29T06:40:00+08:00",
        "division_code": "140622",
        "place": "应县金鼎煤业 1201 工作面",
        "accident_type": "roof_fall",
        "reporter": "李安全",
        "reporter_phone": "13698765432",
        "deaths": 2,
        "missing": 1,
        "serious_injuries": 1,
        **extra,
    }


def recent_accident(node: Any, reporter_phone: str, **extra: Any) -> dict[str, Any]:
    """The body of a report of a general accident (1 dead) at the personas' 应县 mine half an
    hour ago, by 张报告 on ``reporter_phone`` (``extra`` on top)."""
    return {
        "occurred_at": (utcnow() - timedelta(minutes=30)).astimezone(CST).isoformat(),
        "division_code": "140622",
        "enterprise_id": node.enterprises["ying_mine"],
        "place": "应县金鼎煤业 1201 工作面",
        "accident_type": "roof_fall",
        "reporter": "张报告",
        "reporter_phone": reporter_phone,
        "deaths": 1,
        **extra,
    }


def sync_header(kind: str, division: str, since: int = 0, **extra: Any) -> dict[str, Any]:
    """The header of a sealed sync message of ``kind`` (``pull``, ``push``) sent now by the
    node of the child ``division``, from ``since`` (``extra``: a push's ``last_seq`` and
    ``count``)."""
    return {
        "v": 1,
        "kind": kind,
        "from_division": division,
        "from_node": f"node-{division}",
        "ts": utcnow().isoformat(),
        "since": since,
        **extra,
    }


def node_health(
    division: str,
    *,
    ago_s: float = 30.0,
    lag_s: float | None = 0.0,
    backlog: int | None = 0,
    backup_ago_h: float | None = None,
    figures: dict[str, Any] | None = None,
) -> Any:
    """The health report of the node of ``division`` as it arrives from below (operations)."""
    from anjian.ops.models import NodeHealth

    now = utcnow()
    return NodeHealth(
        origin_node=f"node-{division}",
        node_id=f"node-{division}",
        division_code=division,
        reported_at=now - timedelta(seconds=ago_s),
        every_s=60.0,
        backlog=backlog,
        lag_s=lag_s,
        last_backup_at=now - timedelta(hours=backup_ago_h) if backup_ago_h is not None else None,
        figures=figures or {},
        version=1,
    )


def ticket_from_below(origin_division: str, team_division: str, number: str) -> Any:
    """A service-desk ticket kept at the node of ``origin_division``, as it arrives here,
    routed to a team of ``team_division``."""
    from anjian.ops.desk.models import Ticket

    now = utcnow()
    return Ticket(
        number=number,
        kind="incident",
        category="platform",
        division_code=origin_division,
        priority=2,
        title="县级节点平台故障",
        description="",
        source="web",
        requester="县局",
        team="上级平台组" if team_division != origin_division else "县平台组",
        team_division=team_division,
        state="new",
        owner="",
        opened_at=now,
        own_due_at=now + timedelta(minutes=30),
        resolve_due_at=now + timedelta(hours=8),
        resolution="",
        escalations=0,
        knowledge=[],
        feedback="",
        origin_node=f"node-{origin_division}",
        version=1,
    )
