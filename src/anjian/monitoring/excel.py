"""Excel import of an enterprise's point list (测点清单导入): a template and an all-or-nothing
import.

One row per point. Each row goes through the same registration as the API (presets, set-point
order, unique codes, the major hazard source's enterprise), in a savepoint of its own so that
every wrong row is reported; if any is wrong nothing is kept. The report names the spreadsheet
row and the column header, as the user sees them in Excel."""

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
from anjian.enterprises.service import enterprise_in_scope
from anjian.monitoring.points import create_point
from anjian.monitoring.schemas import KIND_LABELS, PointCreate

SHEET_TITLE = "测点清单"
MAX_ROWS = 5_000


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    numeric: bool = False
    required: bool = False
    width: int = 12
    hint: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("测点编码", "code", required=True, width=18),
    Column("名称", "name", width=24),
    Column("监测类型", "kind", width=16, hint="(如 tank_level 或 储罐液位; 有预设可空)"),
    Column("单位", "unit", width=8),
    Column("阈值预设", "preset", width=22),
    Column("低低报", "ll", numeric=True, width=9),
    Column("低报", "l", numeric=True, width=9),
    Column("高报", "h", numeric=True, width=9),
    Column("高高报", "hh", numeric=True, width=9),
    Column("回差", "dead_band", numeric=True, width=8),
    Column("延时", "delay_s", numeric=True, width=8, hint="(秒)"),
    Column("量程下限", "range_low", numeric=True, width=10),
    Column("量程上限", "range_high", numeric=True, width=10),
    Column("采样周期", "period_s", numeric=True, width=10, hint="(秒)"),
    Column("重大危险源ID", "major_hazard_id", numeric=True, width=12),
    Column("安装位置", "location", width=24),
)
_KIND = {**{code: code for code in KIND_LABELS}, **{v: k for k, v in KIND_LABELS.items()}}
_INTEGERS = {"period_s", "major_hazard_id"}


def template() -> bytes:
    """The empty import sheet, required columns marked with *."""
    headers = [(f"{c.header}{c.hint}{'*' if c.required else ''}", c.width) for c in COLUMNS]
    return write_sheet(SHEET_TITLE, headers, [])


class PointImportOutcome(ImportOutcome):
    """What a point import made, or every problem (nothing made)."""

    def summary(self) -> str:
        return f"已导入 {len(self.ids)} 个测点 (imported {len(self.ids)} points)"


def read_file(data: bytes) -> Sheet:
    """An uploaded point list's sheet, read (and a hostile file refused) before the import
    touches the database."""
    return read_sheet(data, max_rows=MAX_ROWS)


def _cell(col: Column, raw: Any) -> Any:
    text = cell_text(raw)
    if col.field == "kind":
        if text not in _KIND:
            raise ValueError(f"监测类型无效: {text} (unknown kind)")
        return _KIND[text]
    if not col.numeric:
        return text
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"应为数字，实为 {text} (must be a number)") from None
    if col.field in _INTEGERS:
        if not number.is_integer():
            raise ValueError(f"应为整数，实为 {text} (must be a whole number)")
        return int(number)
    return number


def import_points(
    session: Session,
    actor: Actor,
    scope: Scope,
    enterprise_id: int,
    sheet: Sheet,
    *,
    source: str = "",
) -> PointImportOutcome:
    """Register the points of one enterprise from a sheet (from ``read_file``), all or none
    (each point and the import itself audited; a refused import is audited too). Nothing is
    committed here."""
    ent = enterprise_in_scope(session, scope, enterprise_id, field="enterprise_id")
    header, body = sheet
    outcome = PointImportOutcome(rows=len(body))
    errors = outcome.errors
    positions = column_positions(header, COLUMNS, errors, rows=len(body), nothing="测点")
    if not errors:

        def make(record: dict[str, Any]) -> int:
            data_in = PointCreate.model_validate({**record, "enterprise_id": ent.id})
            return create_point(session, actor, scope, data_in).id

        import_rows(session, body, positions, COLUMNS, _cell, make, outcome)
    audit(
        session,
        actor,
        "monitoring_point.import",
        object_type="monitoring_point",
        division_code=ent.division_code,
        result="failure" if errors else "success",
        detail={
            "enterprise_id": ent.id,
            "file": source,
            "rows": outcome.rows,
            "points": outcome.ids,
            "errors": len(errors),
        },
    )
    return outcome
