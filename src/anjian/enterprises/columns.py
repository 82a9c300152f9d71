"""The columns a record of an enterprise carries (its enterprise, division and supervision
category), for the domain models that hang off an enterprise."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column


class EnterpriseColumns:
    """Mixin: the enterprise a record belongs to, with the enterprise's ``division_code`` and
    ``supervision_category`` copied onto the record, so that the jurisdiction scope judges the
    record by itself (at upper nodes too, where the enterprise may not be joined). A model
    using it still declares its ``__scope__``."""

    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id"), nullable=False, index=True
    )
    division_code: Mapped[str] = mapped_column(
        ForeignKey("divisions.code"), nullable=False, index=True
    )
    supervision_category: Mapped[str] = mapped_column(String(32), nullable=False, default="")
