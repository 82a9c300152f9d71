"""A jurisdiction with work waiting in every inbox section, in 应县 (the mine of ``qiye``) and
in 山阴县 (the chemical plant), each record placed at a known age so that "oldest first" can
be checked. Shared by the inbox API, page and browser tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from anjian.accidents.models import Accident, AccidentStep, Investigation
from anjian.config import get_settings
from anjian.core.clock import today_in_china
from anjian.directives.models import Directive, DirectiveReceipt
from anjian.hidden_hazards.models import Checklist, HiddenHazard, InspectionTask
from anjian.major_hazards.models import MajorHazardSource
from anjian.monitoring.models import Alarm

YING, SHAN = "140622", "140621"


@dataclass
class World:
    """Ids of what was made, by name."""

    ids: dict[str, Any] = field(default_factory=dict)
    today: date = field(default_factory=today_in_china)


def _hazard(
    s: Any, node: Any, ent: str, division: str, name: str, state: str, **extra: Any
) -> HiddenHazard:
    now: datetime = extra.pop("now")
    hz = HiddenHazard(
        number=f"YH-{name}",
        enterprise_id=node.enterprises[ent],
        division_code=division,
        supervision_category="coal_mine" if ent == "ying_mine" else "hazardous_chemicals",
        place=f"{name}处",
        description=f"隐患{name}的描述",
        category="site",
        grade="general",
        source="self_check",
        found_by="qiye",
        found_at=extra.pop("found_at", now - timedelta(days=10)),
        photos=[],
        state=state,
        created_at=now,
        origin_node=get_settings().effective_node_id,
        **extra,
    )
    s.add(hz)
    return hz


CITY_BUREAU = ("140600", "朔州市应急管理局")  # the issuer of most directives: division, name


def _directive(
    kind: str, title: str, issuer: tuple[str, str], target: str, **extra: Any
) -> Directive:
    """A directive of this node issued by ``issuer`` (division, name) to ``target``."""
    division, name = issuer
    return Directive(
        kind=kind,
        title=title,
        issuer_division=division,
        issuer_name=name,
        target_division=target,
        origin_node=get_settings().effective_node_id,
        **extra,
    )


def alarm(node: Any, ent: str, state: str, raised_at: datetime, value: float = 1.5) -> Alarm:
    """A 一级 (high-high) threshold alarm of the personas' enterprise ``ent``, raised on this node."""
    return Alarm(
        enterprise_id=node.enterprises[ent],
        division_code=YING if ent == "ying_mine" else SHAN,
        supervision_category="coal_mine" if ent == "ying_mine" else "hazardous_chemicals",
        kind="threshold",
        level=1,
        bound="hh",
        threshold=1.0,
        value=value,
        peak=value,
        raised_at=raised_at,
        state=state,
        origin_node=get_settings().effective_node_id,
    )


def build(node: Any) -> World:
    """Fill the node of ``personas`` with waiting work; returns the ids by name."""
    w = World()
    here = get_settings().effective_node_id
    now = datetime.now().astimezone()
    today = w.today
    with node.db() as s:
        hazards = {
            # 应县: two reported (H1 older), one rectified, three being rectified
            "H1": _hazard(
                s, node, "ying_mine", YING, "H1", "found", now=now, found_at=now - timedelta(days=3)
            ),
            "H2": _hazard(
                s, node, "ying_mine", YING, "H2", "found", now=now, found_at=now - timedelta(days=1)
            ),
            "H3": _hazard(
                s,
                node,
                "ying_mine",
                YING,
                "H3",
                "rectified",
                now=now,
                rectified_at=now - timedelta(days=2),
                rectified_by="qiye",
                deadline=today,
            ),
            "H4": _hazard(
                s,
                node,
                "ying_mine",
                YING,
                "H4",
                "rectifying",
                now=now,
                deadline=today - timedelta(days=2),
                overdue=True,
            ),
            "H5": _hazard(
                s,
                node,
                "ying_mine",
                YING,
                "H5",
                "registered",
                now=now,
                deadline=today + timedelta(days=3),
            ),
            "H6": _hazard(
                s,
                node,
                "ying_mine",
                YING,
                "H6",
                "registered",
                now=now,
                deadline=today + timedelta(days=30),
            ),
            "H7": _hazard(s, node, "ying_mine", YING, "H7", "closed", now=now, deadline=today),
            # 山阴县: one reported (the oldest of all), one overdue
            "S1": _hazard(
                s, node, "shan_chem", SHAN, "S1", "found", now=now, found_at=now - timedelta(days=5)
            ),
            "S2": _hazard(
                s,
                node,
                "shan_chem",
                SHAN,
                "S2",
                "rectifying",
                now=now,
                deadline=today - timedelta(days=1),
            ),
        }
        alarm_rows = {
            "A1": alarm(node, "ying_mine", "raised", now - timedelta(hours=2)),
            "A2": alarm(node, "ying_mine", "raised", now - timedelta(hours=1)),
            "A3": alarm(node, "ying_mine", "acknowledged", now - timedelta(hours=3)),
            "SA1": alarm(node, "shan_chem", "raised", now - timedelta(hours=5)),
        }
        s.add_all(alarm_rows.values())
        directives = {
            # to the city: every county under it signs; to 应县 only; to 山阴县 only
            "D1": _directive(
                "notice",
                "关于开展汛期安全检查的通知",
                CITY_BUREAU,
                "140600",
                issued_at=now - timedelta(days=4),
                due_date=today + timedelta(days=5),
            ),
            "D2": _directive(
                "directive",
                "关于应县金鼎煤业整改的指令",
                CITY_BUREAU,
                YING,
                issued_at=now - timedelta(days=2),
            ),
            "D3": _directive(
                "directive",
                "关于山阴县化工企业检查的指令",
                CITY_BUREAU,
                SHAN,
                issued_at=now - timedelta(days=6),
            ),
            "D4": _directive(
                "notice",
                "已签收的通知",
                ("140000", "山西省应急管理厅"),
                YING,
                issued_at=now - timedelta(days=9),
            ),
        }
        s.add_all(directives.values())
        s.flush()
        s.add(
            DirectiveReceipt(
                directive_uid=directives["D4"].uid,
                division_code=YING,
                signed_by="应县值班员",
                signed_at=now,
                origin_node=here,
            )
        )
        accidents = {}
        for name, div, ent in (("AC1", YING, "ying_mine"), ("AC2", SHAN, "shan_chem")):
            accidents[name] = Accident(
                division_code=div,
                enterprise_id=node.enterprises[ent],
                supervision_category="coal_mine" if ent == "ying_mine" else "hazardous_chemicals",
                unit_name="应县金鼎煤业有限公司"
                if ent == "ying_mine"
                else "山阴县晋北化工有限公司",
                occurred_at=now - timedelta(hours=3),
                known_at=now - timedelta(hours=3),
                place="井下",
                accident_type="roof_fall" if ent == "ying_mine" else "poisoning_asphyxia",
                deaths=1,
                grade=4,
                grade_criterion="deaths",
                reporter="张三",
                reported_at=now - timedelta(hours=2),
                origin_node=here,
            )
        s.add_all(accidents.values())
        s.flush()
        for name, div in (("AC1", YING), ("AC2", SHAN)):
            acc = accidents[name]
            s.add(
                AccidentStep(
                    accident_uid=acc.uid,
                    division_code=div,
                    tier="county",
                    receive_due_at=now - timedelta(hours=2),
                    received_at=now - timedelta(hours=2),
                    report_due_at=now + timedelta(minutes=30),
                    origin_node=here,
                )
            )
            s.add(  # the city's step: not received yet, so not the city's work yet
                AccidentStep(
                    accident_uid=acc.uid,
                    division_code="140600",
                    tier="city",
                    receive_due_at=now,
                    report_due_at=now + timedelta(hours=2),
                    origin_node=here,
                )
            )
            s.add(
                Investigation(
                    accident_uid=acc.uid,
                    division_code=div,
                    lead_division=div,
                    started_at=now - timedelta(hours=1),
                    due_at=now + timedelta(days=59),
                    origin_node=here,
                )
            )
        sources = {
            "M1": ("ying_mine", YING, "submitted", now - timedelta(days=2)),
            "M2": ("ying_mine", YING, "returned", now - timedelta(days=1)),
            "SM1": ("shan_chem", SHAN, "submitted", now - timedelta(days=3)),
        }
        source_rows = {
            name: MajorHazardSource(
                enterprise_id=node.enterprises[ent],
                division_code=div,
                supervision_category="coal_mine" if ent == "ying_mine" else "hazardous_chemicals",
                name=f"{name}储罐区",
                units=[],
                is_major=True,
                grade=3,
                assessed_at=at,
                filing_state=state,
                filing_note="请补充包保责任人" if state == "returned" else "",
                created_at=at,
                updated_at=at,
                origin_node=here,
            )
            for name, (ent, div, state, at) in sources.items()
        }
        s.add_all(source_rows.values())
        checklist = Checklist(
            enterprise_id=node.enterprises["ying_mine"],
            name="采煤工作面班前检查",
            post="班组长",
            frequency="daily",
            items=[{"content": "顶板支护完好", "basis": "煤矿安全规程"}],
            active=True,
            created_at=now - timedelta(days=30),
        )
        s.add(checklist)
        s.flush()
        tasks = {
            "T_today": (today, None),
            "T_missed": (today - timedelta(days=2), None),
            "T_old": (today - timedelta(days=20), None),  # missed long ago: on the record only
            "T_done": (today - timedelta(days=1), now),
        }
        task_rows = {
            name: InspectionTask(
                checklist_id=checklist.id,
                enterprise_id=checklist.enterprise_id,
                period=due.isoformat(),
                due_date=due,
                done_at=done,
                done_by="qiye" if done else "",
                hazards_found=0,
                note="",
            )
            for name, (due, done) in tasks.items()
        }
        s.add_all(task_rows.values())
        s.flush()
        w.ids = {
            **{k: v.id for k, v in hazards.items()},
            **{k: v.id for k, v in alarm_rows.items()},
            **{k: v.uid for k, v in directives.items()},
            **{k: v.id for k, v in accidents.items()},
            **{k: v.id for k, v in source_rows.items()},
            **{k: v.id for k, v in task_rows.items()},
            "checklist": checklist.id,
        }
    return w
