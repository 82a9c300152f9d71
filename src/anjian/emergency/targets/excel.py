"""Excel import of protection targets (防护目标导入): a template and an all-or-nothing import,
one target per row, each registered as through the API, every wrong row reported by its
spreadsheet row and column header (as the emergency resources' import)."""

from __future__ import annotations

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
from anjian.emergency.excel import Column
from anjian.emergency.targets.rules import KIND_LABELS, kind_of
from anjian.emergency.targets.schemas import TargetCreate
from anjian.emergency.targets.service import create_target
from anjian.emergency.targets.sync import TARGET_ENTITY

SHEET_TITLE = "防护目标"
MAX_ROWS = 5_000

COLUMNS: tuple[Column, ...] = (
    Column("类别", "kind", required=True, width=14, hint="(学校/幼儿园/医院/养老机构/…)"),
    Column("名称", "name", required=True, width=28),
    Column("行政区划代码", "division_code", required=True, width=14),
    Column("地址", "address", width=30),
    Column("经度", "lng", width=12),
    Column("纬度", "lat", width=12),
    Column("人数", "population", width=10, whole=True),
    Column("联系人", "contact_name", width=10),
    Column("联系电话", "contact_phone", width=14),
    Column("备注", "note", width=24),
)


def template() -> bytes:
    """The empty import sheet, required columns marked with *."""
    headers = [(f"{c.header}{c.hint}{'*' if c.required else ''}", c.width) for c in COLUMNS]
    return write_sheet(SHEET_TITLE, headers, [])


class TargetImportOutcome(ImportOutcome):
    def summary(self) -> str:
        return f"已导入 {len(self.ids)} 个防护目标 (imported {len(self.ids)} protection targets)"


def read_file(data: bytes) -> Sheet:
    """An uploaded target list's sheet, read (and a hostile file refused) before the import
    touches the database."""
    return read_sheet(data, max_rows=MAX_ROWS)


def _cell(col: Column, raw: Any) -> Any:
    text = cell_text(raw)
    if col.field == "kind":
        kind = kind_of(text)
        if kind is None:
            choices = "、".join(KIND_LABELS.values())
            raise ValueError(f"应为 {choices} 之一: {text[:50]} (unknown kind)")
        return kind
    if col.whole:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"应为整数，实为 {text[:50]} (must be a whole number)") from None
        if not number.is_integer():
            raise ValueError(f"应为整数，实为 {text[:50]} (must be a whole number)")
        return int(number)
    return text  # numbers (lng, lat) and codes are checked by the schema, as through the API


def import_targets(
    session: Session, actor: Actor, scope: Scope, sheet: Sheet, *, source: str = ""
) -> TargetImportOutcome:
    """Register the targets of a sheet (from ``read_file``), all or none; each target and the
    import itself audited (a refused import too). Nothing is committed here."""
    header, body = sheet
    outcome = TargetImportOutcome(rows=len(body))
    positions = column_positions(
        header, COLUMNS, outcome.errors, rows=len(body), nothing="防护目标"
    )
    if not outcome.errors:

        def make(record: dict[str, Any]) -> int:
            data = TargetCreate.model_validate(record)
            return create_target(session, actor, scope, data).id

        import_rows(session, body, positions, COLUMNS, _cell, make, outcome)
    audit(
        session,
        actor,
        "emergency.target.import",
        object_type=TARGET_ENTITY,
        result="failure" if outcome.errors else "success",
        detail={
            "file": source,
            "rows": outcome.rows,
            "targets": outcome.ids,
            "errors": len(outcome.errors),
        },
    )
    return outcome
