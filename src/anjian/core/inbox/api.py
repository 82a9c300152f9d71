"""Inbox API (待办): what waits on the calling user, one section per kind of work."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from anjian.core import inbox
from anjian.core.iam.deps import Ctx

router = APIRouter(prefix="/api/v1/inbox", tags=["inbox 待办"])


class InboxItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    title: str
    detail: str
    url: str
    since: datetime | None
    due_date: date | None
    due_at: datetime | None
    overdue: bool


class InboxSectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    title: str
    count: int
    count_exact: bool  # false: past the lists' count limit, the count is an estimate (约)
    items: list[InboxItemRead]
    empty: str
    link: str


class InboxRead(BaseModel):
    audience: str
    total: int
    total_exact: bool
    sections: list[InboxSectionRead]


@router.get("", response_model=InboxRead)
def get_inbox(
    ctx: Ctx,
    limit: Annotated[
        int,
        Query(ge=0, le=inbox.MAX_LIMIT, description="每类最多列出几项 (items per section)"),
    ] = inbox.DEFAULT_LIMIT,
) -> InboxRead:
    """Your work inbox: for each kind of work waiting on you (hazards to register or accept,
    reports to pass up, alarms to acknowledge, directives to sign …), how many wait in your
    jurisdiction and the oldest of them, each with the console page that deals with it."""
    sections = inbox.collect(ctx, limit)
    everything = inbox.total(sections)
    return InboxRead(
        audience=inbox.audience_of(ctx),
        total=everything,
        total_exact=everything.exact,
        sections=[InboxSectionRead.model_validate(s) for s in sections],
    )
