"""Excel exchange of inspection checklists (排查清单): a template and an all-or-nothing import.

One row per item: 清单名称 | 岗位 | 频次 | 排查内容 | 排查依据; the rows with the same name,
post and frequency make one checklist, its items in the order of the rows. Every row is checked
first and nothing is written unless all are right; the report names the spreadsheet row and
the column header, as the user sees them in Excel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.scope import Scope
from anjian.core.xlsx import (
    ImportOutcome,
    ImportProblem,
    cell_text,
    column_positions,
    is_blank,
    write_sheet,
)
from anjian.core.xlsx_reader import Sheet, read_sheet
from anjian.enterprises.models import Enterprise
from anjian.hidden_hazards.checklists.rules import FREQUENCIES
from anjian.hidden_hazards.checklists.schemas import (
    ITEM_MAX,
    MAX_ITEMS,
    NAME_MAX,
    POST_MAX,
    ChecklistItem,
)
from anjian.hidden_hazards.checklists.service import active_duplicate, add_checklist, enterprise_for

SHEET_TITLE = "排查清单"
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool
    max_length: int
    width: int
    hint: str = ""  # shown in the template's header, e.g. the allowed values


COLUMNS: tuple[Column, ...] = (
    Column("清单名称", "name", True, NAME_MAX, 30),
    Column("岗位", "post", False, POST_MAX, 16),
    Column("频次", "frequency", True, 8, 20, hint="(每日/每周/每月)"),
    Column("排查内容", "content", True, ITEM_MAX, 50),
    Column("排查依据", "basis", False, ITEM_MAX, 40),
)
_FREQUENCY = {**{code: code for code in FREQUENCIES}, **{v: k for k, v in FREQUENCIES.items()}}


def template() -> bytes:
    """The empty import sheet: required columns marked with *, frequencies spelled out."""
    headers = [(f"{c.header}{c.hint}{'*' if c.required else ''}", c.width) for c in COLUMNS]
    return write_sheet(SHEET_TITLE, headers, [])


@dataclass
class ChecklistImportOutcome(ImportOutcome):
    """What a checklist import did (checklists and items made), or every problem (nothing
    made)."""

    checklists: int = 0
    items: int = 0

    def summary(self) -> str:
        return (
            f"已导入 {self.checklists} 份清单、{self.items} 项排查内容 "
            f"(imported {self.checklists} checklists with {self.items} items)"
        )


def read_file(data: bytes) -> Sheet:
    """An uploaded checklist sheet, read (and a hostile file refused) before the import
    touches the database."""
    return read_sheet(data, max_rows=MAX_ROWS)


def _parse_row(
    number: int, values: tuple[Any, ...], positions: dict[str, int], errors: list[ImportProblem]
) -> dict[str, str] | None:
    record: dict[str, str] = {}
    ok = True
    for col in COLUMNS:
        at = positions.get(col.header)
        raw = values[at] if at is not None and at < len(values) else None
        value = "" if is_blank(raw) else cell_text(raw)
        problem = None
        if not value and col.required:
            problem = "必填 (required)"
        elif col.key == "frequency":
            if value not in _FREQUENCY:
                problem = (
                    f"频次无效: {value}，应为 {'、'.join(FREQUENCIES.values())} 之一 "
                    f"(must be one of {', '.join(FREQUENCIES)})"
                )
            else:
                value = _FREQUENCY[value]
        elif len(value) > col.max_length:
            problem = (
                f"不能超过 {col.max_length} 个字符，实为 {len(value)} 个 "
                f"(at most {col.max_length} characters)"
            )
        if problem:
            errors.append(ImportProblem(row=number, column=col.header, message=problem))
            ok = False
        record[col.key] = value
    return record if ok else None


@dataclass
class _Group:
    first_row: int
    items: list[ChecklistItem] = field(default_factory=list)
    rows_of: dict[str, int] = field(default_factory=dict)  # item content -> its row


def import_checklists(
    session: Session,
    actor: Actor,
    scope: Scope,
    enterprise_id: int | None,
    sheet: Sheet,
    *,
    source: str = "",
) -> ChecklistImportOutcome:
    """Import the checklists of one enterprise from a sheet (from ``read_file``), all or none:
    if any row is wrong nothing is written and the outcome lists each problem (the failed
    attempt is audited too). The caller's transaction is not committed here."""
    ent = enterprise_for(session, scope, enterprise_id)
    header, body = sheet
    outcome = ChecklistImportOutcome(rows=len(body))
    errors = outcome.errors
    positions = column_positions(header, COLUMNS, errors, rows=len(body), nothing="清单数据")
    groups: dict[tuple[str, str, str], _Group] = {}
    if not errors:
        for number, values in body:
            rec = _parse_row(number, values, positions, errors)
            if rec is None:
                continue
            key = (rec["name"], rec["post"], rec["frequency"])
            group = groups.setdefault(key, _Group(first_row=number))
            if rec["content"] in group.rows_of:
                first = group.rows_of[rec["content"]]
                errors.append(
                    ImportProblem(
                        row=number,
                        column="排查内容",
                        message=f"与第 {first} 行重复 (duplicate of row {first})",
                    )
                )
                continue
            if len(group.items) >= MAX_ITEMS:
                errors.append(
                    ImportProblem(
                        row=number,
                        column="排查内容",
                        message=f"一份清单最多 {MAX_ITEMS} 项 (at most {MAX_ITEMS} items)",
                    )
                )
                continue
            group.rows_of[rec["content"]] = number
            group.items.append(ChecklistItem(content=rec["content"], basis=rec["basis"]))
        for (name, post, frequency), group in groups.items():
            if active_duplicate(session, ent.id, name, post, frequency):
                errors.append(
                    ImportProblem(
                        row=group.first_row,
                        column="清单名称",
                        message=(
                            f"该企业已有同名、同岗位、同频次的在用清单: {name} "
                            "(an active checklist with this name, post and frequency exists)"
                        ),
                    )
                )
    if errors:
        order = {c.header: i for i, c in enumerate(COLUMNS)}
        errors.sort(key=lambda e: (e.row, order.get(e.column, -1)))
        _audit_import(session, actor, ent, source, outcome, "failure", errors=len(errors))
        return outcome
    for (name, post, frequency), group in groups.items():
        cl = add_checklist(
            session, ent, name=name, post=post, frequency=frequency, items=group.items
        )
        outcome.ids.append(cl.id)
        outcome.items += len(group.items)
    outcome.checklists = len(outcome.ids)
    _audit_import(
        session, actor, ent, source, outcome, "success", checklists=outcome.ids, items=outcome.items
    )
    return outcome


def _audit_import(
    session: Session,
    actor: Actor,
    ent: Enterprise,
    source: str,
    outcome: ChecklistImportOutcome,
    result: str,
    **detail: Any,
) -> None:
    """Audit an import of ``source`` for ``ent``: what it made, or why nothing."""
    audit(
        session,
        actor,
        "checklist.import",
        object_type="checklist",
        division_code=ent.division_code,
        result=result,
        detail={"enterprise_id": ent.id, "file": source, "rows": outcome.rows, **detail},
    )
