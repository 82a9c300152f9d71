"""Request and response bodies of inspection checklists (排查清单) and self-inspection tasks
(排查任务)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from anjian.core.fields import invalid, one_of, text
from anjian.core.paging import PageOut
from anjian.hidden_hazards.checklists.rules import FREQUENCIES, TaskState

if TYPE_CHECKING:
    from anjian.hidden_hazards.models import Checklist

NAME_MAX, POST_MAX, ITEM_MAX = 200, 64, 500  # the same limits bind the API and the Excel import
MAX_ITEMS = 300  # items of one checklist
MAX_HAZARDS_FOUND = 9_999  # one self-inspection; a bound the column and any form can hold


def _strip(value: str) -> str:
    return value.strip()


Name = Annotated[str, AfterValidator(_strip), AfterValidator(text(NAME_MAX, required=True))]
Post = Annotated[str, AfterValidator(_strip), AfterValidator(text(POST_MAX))]
Frequency = Annotated[str, AfterValidator(one_of(FREQUENCIES, "排查频次", "frequency"))]


class ChecklistItem(BaseModel):
    """One thing to check (排查内容) and the rule that requires it (排查依据)."""

    model_config = ConfigDict(extra="forbid")

    content: Annotated[str, AfterValidator(_strip), AfterValidator(text(ITEM_MAX, required=True))]
    basis: Annotated[str, AfterValidator(_strip), AfterValidator(text(ITEM_MAX))] = ""


def _some_items(items: list[ChecklistItem]) -> list[ChecklistItem]:
    if not items:
        raise invalid("items", "至少需要一项排查内容 (a checklist needs at least one item)")
    if len(items) > MAX_ITEMS:
        raise invalid("items", f"排查内容最多 {MAX_ITEMS} 项 (at most {MAX_ITEMS} items)")
    return items


Items = Annotated[list[ChecklistItem], AfterValidator(_some_items)]


class ChecklistCreate(BaseModel):
    """A new checklist; an enterprise user may leave out ``enterprise_id`` (their own)."""

    model_config = ConfigDict(extra="forbid")

    enterprise_id: int | None = None
    name: Name
    post: Post = ""
    frequency: Frequency
    items: Items


class ChecklistUpdate(BaseModel):
    """The fields to change; a new frequency reschedules the pending task."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    post: Post | None = None
    frequency: Frequency | None = None
    items: Items | None = None


def _not_negative(value: int) -> int:
    if value < 0:
        raise invalid("hazards_found", f"发现隐患数不能为负数: {value} (cannot be negative)")
    if value > MAX_HAZARDS_FOUND:
        raise invalid(
            "hazards_found",
            f"发现隐患数最多 {MAX_HAZARDS_FOUND} (at most {MAX_HAZARDS_FOUND})",
        )
    return value


class CompletionCreate(BaseModel):
    """A self-inspection reported done: what was seen and how many hazards were found."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, AfterValidator(_strip), AfterValidator(text(4000))] = ""
    hazards_found: Annotated[int, AfterValidator(_not_negative)] = 0


class ChecklistRead(BaseModel):
    id: int
    enterprise_id: int
    enterprise_name: str = ""
    name: str
    post: str
    frequency: str
    frequency_label: str
    items: list[dict[str, str]]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, cl: Checklist, enterprise_name: str = "") -> ChecklistRead:
        return cls(
            id=cl.id,
            enterprise_id=cl.enterprise_id,
            enterprise_name=enterprise_name,
            name=cl.name,
            post=cl.post,
            frequency=cl.frequency,
            frequency_label=FREQUENCIES.get(cl.frequency, cl.frequency),
            items=list(cl.items or []),
            active=cl.active,
            created_at=cl.created_at,
        )


class ChecklistPage(PageOut):
    items: list[ChecklistRead]


class TaskRead(BaseModel):
    id: int
    checklist_id: int
    checklist_name: str
    post: str
    frequency: str
    frequency_label: str
    enterprise_id: int
    enterprise_name: str
    period: str
    period_start: date
    due_date: date
    state: TaskState
    state_label: str
    on_time: bool | None  # done by the due date (None while not done)
    done_at: datetime | None
    done_by: str
    hazards_found: int
    note: str


class TaskPage(PageOut):
    items: list[TaskRead]


class CompletionRead(BaseModel):
    """完成率 of one enterprise over a range of due dates. ``due`` counts the tasks whose period
    has ended or that were done; ``pending`` (period still running, not done) are not due yet."""

    enterprise_id: int
    enterprise_name: str
    division_code: str
    due: int
    done: int  # on time: done on or before the due date (Beijing time)
    late: int
    missed: int
    pending: int
    rate: float | None  # %, done over due


class ChecklistImportResult(BaseModel):
    """A successful import: the checklists made and their items."""

    checklists: int
    items: int
    ids: list[int]
