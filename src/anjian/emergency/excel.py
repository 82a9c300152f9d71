"""Excel import of emergency resources (应急资源导入): a template and an all-or-nothing import,
one resource per row, each registered as through the API, every wrong row reported by its
spreadsheet row and column header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.scope import Scope
from anjian.core.xlsx import (
    ImportOutcome,
    cell_text,
    column_positions,
    import_rows,
    write_sheet,
)
from anjian.core.xlsx_reader import Sheet, read_sheet
from anjian.emergency.resources import create_resource
from anjian.emergency.rules.resources import KIND_LABELS, STATUS_LABELS
from anjian.emergency.schemas import ResourceCreate
from anjian.emergency.sync import RESOURCE_ENTITY

SHEET_TITLE = "应急资源"
MAX_ROWS = 5_000


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    required: bool = False
    width: int = 12
    hint: str = ""
    whole: bool = False  # a whole number


COLUMNS: tuple[Column, ...] = (
    Column("类别", "kind", required=True, width=12, hint="(救援队伍/救援装备/物资储备库/…)"),
    Column("名称", "name", required=True, width=28),
    Column("行政区划代码", "division_code", required=True, width=14),
    Column("企业ID", "enterprise_id", width=10, whole=True),
    Column("所属单位", "owner", width=24),
    Column("地址", "address", width=30),
    Column("经度", "lng", width=12),
    Column("纬度", "lat", width=12),
    Column("状态", "status", width=10, hint="(可调用/执行任务中/不可用)"),
    Column("专业", "specialty", width=16),
    Column("人数", "headcount", width=8, whole=True),
    Column("容量", "capacity", width=8, whole=True),
    Column("联系人", "contact_name", width=10),
    Column("联系电话", "contact_phone", width=14),
    Column("备注", "note", width=24),
)
# Codes and their Chinese names both accepted.
_CODES = {
    "kind": {**{k: k for k in KIND_LABELS}, **{v: k for k, v in KIND_LABELS.items()}},
    "status": {**{k: k for k in STATUS_LABELS}, **{v: k for k, v in STATUS_LABELS.items()}},
}


def template() -> bytes:
    """The empty import sheet, required columns marked with *."""
    headers = [(f"{c.header}{c.hint}{'*' if c.required else ''}", c.width) for c in COLUMNS]
    return write_sheet(SHEET_TITLE, headers, [])


class ResourceImportOutcome(ImportOutcome):
    def summary(self) -> str:
        return f"已导入 {len(self.ids)} 项应急资源 (imported {len(self.ids)} resources)"


def read_file(data: bytes) -> Sheet:
    """An uploaded resource list's sheet, read (and a hostile file refused) before the import
    touches the database."""
    return read_sheet(data, max_rows=MAX_ROWS)


def _cell(col: Column, raw: Any) -> Any:
    text = cell_text(raw)
    if col.field in _CODES:
        if text not in _CODES[col.field]:
            choices = "、".join(v for v in _CODES[col.field] if not v.isascii())
            raise ValueError(f"应为 {choices} 之一: {text} (unknown {col.field})")
        return _CODES[col.field][text]
    if col.whole:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"应为整数，实为 {text} (must be a whole number)") from None
        if not number.is_integer():
            raise ValueError(f"应为整数，实为 {text} (must be a whole number)")
        return int(number)
    return text  # numbers (lng, lat) and codes are checked by the schema, as through the API


def import_resources(
    session: Session, actor: Actor, scope: Scope, sheet: Sheet, *, source: str = ""
) -> ResourceImportOutcome:
    """Register the resources of a sheet (from ``read_file``), all or none; each resource and
    the import itself audited (a refused import too). Nothing is committed here."""
    header, body = sheet
    outcome = ResourceImportOutcome(rows=len(body))
    positions = column_positions(header, COLUMNS, outcome.errors, rows=len(body), nothing="资源")
    if not outcome.errors:

        def make(record: dict[str, Any]) -> int:
            data = ResourceCreate.model_validate(record)
            return create_resource(session, actor, scope, data).id

        import_rows(session, body, positions, COLUMNS, _cell, make, outcome)
    audit(
        session,
        actor,
        "emergency_resource.import",
        object_type=RESOURCE_ENTITY,
        result="failure" if outcome.errors else "success",
        detail={
            "file": source,
            "rows": outcome.rows,
            "resources": outcome.ids,
            "errors": len(outcome.errors),
        },
    )
    return outcome
