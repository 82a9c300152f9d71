"""Organisation table."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.core.sync.registry import SyncSpec, register
from anjian.db import Base


class OrgKind(StrEnum):
    """Kinds of organisation a user can belong to."""

    AGENCY = "agency"  # 应急管理（安全监管）部门
    COAL_INSPECTION = "coal_inspection"  # 煤矿安全监察局 / 分局
    RESCUE_TEAM = "rescue_team"  # 救援队伍
    ENTERPRISE = "enterprise"  # 生产经营单位
    OPERATOR = "operator"  # 平台运维单位


ORG_KIND_LABELS = {
    OrgKind.AGENCY: "应急管理部门",
    OrgKind.COAL_INSPECTION: "煤矿安全监察机构",
    OrgKind.RESCUE_TEAM: "救援队伍",
    OrgKind.ENTERPRISE: "企业",
    OrgKind.OPERATOR: "运维单位",
}


class Organisation(SyncMixin, Scoped, Base):
    """An organisation located in a division. A coal-mine inspection bureau's area
    (``area_codes``) need not follow division borders; when set, it replaces the division as
    the jurisdiction of the bureau's officials."""

    __scope__ = ScopeColumns("division_code", "enterprise_id")
    __noun__ = ("机构", "organisation")

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    area_codes: Mapped[list[str] | None] = mapped_column(JSON)
    enterprise_id: Mapped[int | None] = mapped_column(Integer, index=True)


register(
    SyncSpec(
        "organisation",
        Organisation,
        division_attr="division_code",
        refs={"parent_id": "organisation", "enterprise_id": "enterprise"},
    )
)
