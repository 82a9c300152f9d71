"""节点设置 API: the node's run-time settings, changed by its administrators (audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from anjian.core.iam.deps import AdminCtx
from anjian.core.node_settings import service
from anjian.core.node_settings.service import SettingState

router = APIRouter(prefix="/api/v1/node/settings", tags=["node 节点"])

SettingKey = Annotated[str, Path(max_length=64, pattern=r"^[a-z_0-9]+$")]


class SettingRead(BaseModel):
    key: str
    label: str
    value: int | str
    source: str = Field(description="console | env | base (configuration file or default)")
    pinned_by: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None

    @classmethod
    def of(cls, s: SettingState) -> SettingRead:
        source = "env" if s.pinned_by else "console" if s.console else "base"
        return cls(
            key=s.key,
            label=s.label,
            value=s.value,  # type: ignore[arg-type]
            source=source,
            pinned_by=s.pinned_by,
            updated_at=s.updated_at,  # type: ignore[arg-type]
            updated_by=s.updated_by,
        )


class SettingUpdate(BaseModel):
    value: str = Field(max_length=1000)


@router.get("", response_model=list[SettingRead])
def list_settings(ctx: AdminCtx) -> list[SettingRead]:
    """The settings an administrator may change at run time, with the value in force."""
    return [SettingRead.of(s) for s in service.setting_states(ctx.db)]


@router.put("/{key}", response_model=SettingRead)
def put_setting(key: SettingKey, body: SettingUpdate, ctx: AdminCtx) -> SettingRead:
    """Set a run-time setting (422 out of range, 409 when an environment variable pins it)."""
    return SettingRead.of(service.set_setting(ctx.db, ctx.actor, ctx.user, key, body.value))


@router.delete("/{key}", response_model=SettingRead)
def reset_setting(key: SettingKey, ctx: AdminCtx) -> SettingRead:
    """恢复默认: drop the console's value (the configuration file or default applies)."""
    return SettingRead.of(service.clear_setting(ctx.db, ctx.actor, ctx.user, key))
