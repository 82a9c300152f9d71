"""Inspection checklists (排查清单) and self-inspection tasks (排查任务) API, with the Excel
template and import of checklists and the completion rates (完成率)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, UploadFile
from sqlalchemy.orm import Session

from anjian.core.api_kit import (
    IMPORT_REFUSED,
    EnterpriseQuery,
    ListFilters,
    import_answer,
    list_page,
    read_upload,
)
from anjian.core.clock import today_in_china
from anjian.core.downloads import xlsx_response
from anjian.core.iam.deps import Context, Ctx
from anjian.core.paging import Paging
from anjian.enterprises.service import enterprise_names
from anjian.hidden_hazards.checklists import excel, service, tasks
from anjian.hidden_hazards.checklists.schemas import (
    ChecklistCreate,
    ChecklistImportResult,
    ChecklistPage,
    ChecklistRead,
    ChecklistUpdate,
    CompletionCreate,
    CompletionRead,
    TaskPage,
    TaskRead,
)
from anjian.hidden_hazards.models import Checklist

router = APIRouter(prefix="/api/v1/checklists", tags=["inspection checklists 排查清单"])
tasks_router = APIRouter(prefix="/api/v1/inspection-tasks", tags=["inspection tasks 排查任务"])

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _present(db: Session, checklists: list[Checklist]) -> list[ChecklistRead]:
    names = enterprise_names(db, {c.enterprise_id for c in checklists})
    return [ChecklistRead.of(c, names.get(c.enterprise_id, "")) for c in checklists]


def _read(ctx: Context, cl: Checklist) -> ChecklistRead:
    return _present(ctx.db, [cl])[0]


@dataclass(frozen=True)
class ChecklistFilters(ListFilters):
    """The filters of the checklist list."""

    enterprise_id: EnterpriseQuery = None
    active: Annotated[bool | None, Query(description="在用 (true) 或已停用 (false)")] = None
    frequency: Annotated[str | None, Query(description="daily | weekly | monthly")] = None
    q: Annotated[str | None, Query(description="名称或岗位包含")] = None


@router.get("", response_model=ChecklistPage)
def list_checklists(
    ctx: Ctx, filters: Annotated[ChecklistFilters, Depends()], paging: Paging
) -> ChecklistPage:
    """The checklists in your jurisdiction (your own enterprise's for enterprise users)."""
    return list_page(ChecklistPage, service.list_checklists, ctx, filters, paging, _present)


@router.post("", response_model=ChecklistRead, status_code=201)
def create_checklist(body: ChecklistCreate, ctx: Ctx) -> ChecklistRead:
    """A new checklist (name, post, frequency, items); its current task is scheduled at once."""
    return _read(ctx, service.create_checklist(ctx.db, ctx.actor, ctx.scope, body))


@router.get("/template.xlsx", response_class=Response)
def template(ctx: Ctx) -> Response:
    """The Excel template of the checklist import."""
    return xlsx_response(excel.template(), "checklist-template", "排查清单导入模板")


@router.post("/import", response_model=ChecklistImportResult, responses=IMPORT_REFUSED)
def import_checklists(
    file: UploadFile,
    ctx: Ctx,
    enterprise_id: Annotated[int | None, Query(description="企业 ID (企业用户可省略)")] = None,
) -> Any:
    """Import the checklists of one enterprise from the template layout: all rows or none,
    with a row-by-row report."""
    sheet = excel.read_file(read_upload(file, MAX_UPLOAD_BYTES))
    outcome = excel.import_checklists(
        ctx.db, ctx.actor, ctx.scope, enterprise_id, sheet, source=file.filename or ""
    )
    return import_answer(
        outcome,
        lambda: ChecklistImportResult(
            checklists=outcome.checklists, items=outcome.items, ids=outcome.ids
        ),
    )


@router.get("/{checklist_id}", response_model=ChecklistRead)
def get_checklist(checklist_id: int, ctx: Ctx) -> ChecklistRead:
    """One checklist with its items."""
    return _read(ctx, service.get_checklist(ctx.db, ctx.scope, checklist_id))


@router.patch("/{checklist_id}", response_model=ChecklistRead)
def update_checklist(checklist_id: int, body: ChecklistUpdate, ctx: Ctx) -> ChecklistRead:
    """Change the fields sent (an active checklist only)."""
    cl = service.update_checklist(ctx.db, ctx.actor, ctx.scope, checklist_id, body)
    return _read(ctx, cl)


@router.post("/{checklist_id}/deactivate", response_model=ChecklistRead)
def deactivate_checklist(checklist_id: int, ctx: Ctx) -> ChecklistRead:
    """停用: no more tasks from this checklist; its record stays."""
    cl = service.deactivate_checklist(ctx.db, ctx.actor, ctx.scope, checklist_id)
    return _read(ctx, cl)


# --- tasks ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFilters(ListFilters):
    """The filters of the task list."""

    enterprise_id: EnterpriseQuery = None
    checklist_id: Annotated[int | None, Query(description="清单 ID")] = None
    state: Annotated[
        str | None, Query(description="pending (待排查) | done (已完成) | missed (逾期未排查)")
    ] = None
    frm: Annotated[date | None, Query(alias="from", description="应完成日期起")] = None
    to: Annotated[date | None, Query(description="应完成日期止 (含)")] = None


@tasks_router.get("", response_model=TaskPage)
def list_tasks(ctx: Ctx, filters: Annotated[TaskFilters, Depends()], paging: Paging) -> TaskPage:
    """Self-inspection tasks in your jurisdiction, latest due first."""
    return list_page(TaskPage, tasks.list_tasks, ctx, filters, paging)


@tasks_router.get("/completion", response_model=list[CompletionRead])
def completion(
    ctx: Ctx,
    frm: Annotated[
        date | None, Query(alias="from", description="应完成日期起 (默认本月1日)")
    ] = None,
    to: Annotated[date | None, Query(description="应完成日期止 (含，默认今天)")] = None,
    enterprise_id: Annotated[int | None, Query(description="企业 ID")] = None,
) -> list[CompletionRead]:
    """完成率 per enterprise: tasks done by their due date over tasks due in the range."""
    today = today_in_china()
    return tasks.completion(
        ctx.db,
        ctx.scope,
        frm or today.replace(day=1),
        to or today,
        enterprise_id,
        today=today,
    )


@tasks_router.post("/{task_id}/complete", response_model=TaskRead)
def complete(task_id: int, ctx: Ctx, body: CompletionCreate | None = None) -> TaskRead:
    """排查完成: report the task done (once), with a note and the number of hazards found."""
    body = body or CompletionCreate()
    return tasks.complete_task(ctx.db, ctx.actor, ctx.scope, task_id, body.note, body.hazards_found)
