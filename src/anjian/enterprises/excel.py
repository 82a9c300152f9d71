"""Excel exchange of the enterprise registry (openpyxl): export of a scoped list and an
all-or-nothing import in the same layout.

Officials trade registries as spreadsheets. An import validates every row first (credit code,
duplicates within the file and against the database, division known and in the importer's
jurisdiction, required fields, code lists, numbers, dates) and writes nothing unless every row
is right, so a half-imported file never has to be cleaned up by hand. The report names the
spreadsheet row and the column header, as the official sees them in Excel."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Unpack

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit
from anjian.core.crypto import mask_phone
from anjian.core.errors import Forbidden
from anjian.core.iam.service import field_cipher
from anjian.core.scope import Scope, unscoped
from anjian.core.xlsx import (
    ImportOutcome,
    ImportProblem,
    cell_text,
    column_positions,
    read_row,
    write_sheet,
)
from anjian.core.xlsx_reader import Sheet, read_sheet
from anjian.enterprises import service
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import SCALES, STATUSES, SUPERVISION_CATEGORIES
from anjian.enterprises.schemas import EnterpriseCreate, EnterpriseFilters

SHEET_TITLE = "企业档案"
MAX_ROWS = 100_000  # a whole province's registry fits; a runaway sheet does not
MAX_UNPACKED_BYTES = 192 * 1024 * 1024  # an export of MAX_ROWS enterprises unpacks to ~110 MB

# (phase, done, total): "validate" then "import"; lets the CLI draw a progress bar.
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: its Chinese header, the schema field and how cells convert."""

    header: str
    field: str
    kind: str = "text"  # text | float | int | date | phone | enum
    required: bool = False
    labels: dict[str, str] | None = None
    width: int = 14


COLUMNS: tuple[Column, ...] = (
    Column("统一社会信用代码", "uscc", required=True, width=22),
    Column("企业名称", "name", required=True, width=32),
    Column("行政区划代码", "division_code", required=True, width=12),
    Column("地址", "address", width=32),
    Column("经度", "lng", kind="float", width=11),
    Column("纬度", "lat", kind="float", width=11),
    Column("行业代码", "industry_code", width=10),
    Column(
        "监管类别",
        "supervision_category",
        kind="enum",
        required=True,
        labels=SUPERVISION_CATEGORIES,
    ),
    Column("规模", "scale", kind="enum", labels=SCALES, width=8),
    Column("从业人数", "employees", kind="int", width=10),
    Column("法定代表人", "legal_rep", width=12),
    Column("法定代表人电话", "legal_rep_phone", kind="phone", width=16),
    Column("安全负责人", "safety_manager", width=12),
    Column("安全负责人电话", "safety_manager_phone", kind="phone", width=16),
    Column("许可证编号", "licence_no", width=20),
    Column("许可证有效期", "licence_valid_until", kind="date", width=14),
    Column("状态", "status", kind="enum", labels=STATUSES, width=10),
)
HEADERS = tuple(c.header for c in COLUMNS)
_BY_FIELD = {c.field: c for c in COLUMNS}
_INTEGER = re.compile(r"^-?[0-9]+$")
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


# --- export ------------------------------------------------------------------------------------


def _row_values(ent: Enterprise, cipher: Any, full_numbers: bool) -> list[Any]:
    legal, safety = service.phones_of(ent, cipher)
    if not full_numbers:  # an export leaves the system: phones masked unless asked for in full
        legal, safety = mask_phone(legal), mask_phone(safety)
    return [
        ent.uscc,
        ent.name,
        ent.division_code,
        ent.address,
        ent.lng,
        ent.lat,
        ent.industry_code,
        SUPERVISION_CATEGORIES.get(ent.supervision_category, ent.supervision_category),
        SCALES.get(ent.scale, ent.scale),
        ent.employees,
        ent.legal_rep,
        legal,
        ent.safety_manager,
        safety,
        ent.licence_no,
        ent.licence_valid_until,
        STATUSES.get(ent.status, ent.status),
    ]


def write_workbook(ents: Iterable[Enterprise], *, full_numbers: bool = False) -> bytes:
    """The registry layout as .xlsx bytes: Chinese headers, enum labels, masked phones (in full
    with ``full_numbers``)."""
    cipher = field_cipher()
    return write_sheet(
        SHEET_TITLE,
        [(c.header, c.width) for c in COLUMNS],
        (_row_values(ent, cipher, full_numbers) for ent in ents),
    )


def export_workbook(
    session: Session,
    scope: Scope,
    actor: Actor,
    *,
    full_numbers: bool = False,
    **filters: Unpack[EnterpriseFilters],
) -> tuple[bytes, int]:
    """The scoped, filtered list as .xlsx bytes and its row count. Audited: the file carries
    names of people out of the system; with ``full_numbers`` their phones too, so the record
    is a personal-data read of its own kind (``enterprise.export_full_numbers``) naming how many
    enterprises' phones left."""
    ents, total = service.list_enterprises(session, scope, limit=None, **filters)
    data = write_workbook(ents, full_numbers=full_numbers)
    audit(
        session,
        actor,
        "enterprise.export_full_numbers" if full_numbers else "enterprise.export",
        object_type="enterprise",
        detail={"count": total, "filters": {k: v for k, v in filters.items() if v}},
    )
    return data, total


# --- import ------------------------------------------------------------------------------------


@dataclass
class EnterpriseImportOutcome(ImportOutcome):
    """What an enterprise import did: the enterprises imported, or every problem found."""

    imported: int = 0

    def summary(self) -> str:
        return f"已导入 {self.imported} 家企业 (imported {self.imported} enterprises)"


def _convert(col: Column, raw: Any) -> Any:
    """A cell's value as the schema expects it; raises ValueError with a Chinese message."""
    if col.kind == "float":
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        try:
            return float(cell_text(raw))
        except ValueError:
            raise ValueError(f"应为数字: {raw} (must be a number)") from None
    if col.kind == "int":
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        text = cell_text(raw)
        if _INTEGER.match(text):
            return int(text)
        raise ValueError(f"应为整数: {raw} (must be a whole number)")
    if col.kind == "date":
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        m = _DATE.match(cell_text(raw))
        try:
            if m:
                return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
        raise ValueError(f"应为日期，如 2027-06-30: {raw} (must be a date, e.g. 2027-06-30)")
    text = cell_text(raw)
    if col.kind == "phone" and "*" in text:
        # An exported sheet carries masked phones (139****5678): they mean "not known here",
        # never a number, so re-importing an export leaves the phone empty.
        return None
    if col.kind == "enum":
        assert col.labels is not None
        if text in col.labels:
            return text
        for code, label in col.labels.items():
            if text == label:
                return code
        choices = "、".join(col.labels.values())
        raise ValueError(
            f"{col.header}无效: {text}，应为 {choices} 之一 "
            f"(must be one of {', '.join(col.labels)} or its Chinese label)"
        )
    return text


def _parse_row(
    number: int, values: tuple[Any, ...], positions: dict[str, int], errors: list[ImportProblem]
) -> tuple[EnterpriseCreate | None, dict[str, Any]]:
    """The row as a valid body (or None), and the fields whose cells were valid on their own:
    a row with a bad phone still gets its credit code and division checked, so one pass
    reports everything wrong with it."""
    record, problems = read_row(values, positions, COLUMNS, _convert)
    errors += [ImportProblem(row=number, column=c, message=m) for c, m in problems]
    ok = not problems
    try:
        parsed = EnterpriseCreate.model_validate(record)
    except ValidationError as exc:
        reported = {e.column for e in errors if e.row == number}
        bad: set[str] = set()
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            bad.add(name)
            col = _BY_FIELD.get(name)
            header = col.header if col else name
            if header not in reported:  # one message per cell: the conversion error suffices
                errors.append(ImportProblem(row=number, column=header, message=err["msg"]))
        known = {k: v for k, v in record.items() if k not in bad}
        if "uscc" in known:
            known["uscc"] = str(known["uscc"]).strip().upper()
        return None, known
    dumped = parsed.model_dump()
    return (parsed if ok else None), {k: dumped[k] for k in record}


@unscoped("credit codes are unique nationally: a code held out of scope is taken too")
def _registered(session: Session, codes: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(codes), 500):
        chunk = codes[i : i + 500]
        found.update(session.scalars(select(Enterprise.uscc).where(Enterprise.uscc.in_(chunk))))
    return found


def read_file(data: bytes) -> Sheet:
    """An uploaded registry's sheet, read (and a hostile file refused) before the import
    touches the database."""
    return read_sheet(data, max_rows=MAX_ROWS, max_bytes=MAX_UNPACKED_BYTES)


def validate_workbook(
    session: Session,
    scope: Scope,
    sheet: Sheet,
    *,
    progress: ProgressFn | None = None,
) -> tuple[list[tuple[int, EnterpriseCreate]], int, list[ImportProblem]]:
    """Check every row of a sheet from ``read_file`` without writing: (valid rows, row count,
    problems)."""
    header, body = sheet
    errors: list[ImportProblem] = []
    positions = column_positions(header, COLUMNS, errors, rows=len(body), nothing="企业数据")
    if errors:
        return [], len(body), errors
    parsed: list[tuple[int, EnterpriseCreate]] = []
    first_row: dict[str, int] = {}
    uscc_header = _BY_FIELD["uscc"].header
    for done, (number, values) in enumerate(body, start=1):
        errors_before = len(errors)
        rec, known = _parse_row(number, values, positions, errors)
        uscc = known.get("uscc")
        if uscc and uscc in first_row:
            errors.append(
                ImportProblem(
                    row=number,
                    column=uscc_header,
                    message=f"与第 {first_row[uscc]} 行重复 (duplicate of row {first_row[uscc]})",
                )
            )
        elif uscc:
            first_row[uscc] = number
        if known.get("division_code"):
            problem = service.placement_problem(
                session, scope, known["division_code"], known.get("supervision_category")
            )
            if problem is not None:
                col = _BY_FIELD.get(problem.field or "", _BY_FIELD["division_code"])
                errors.append(ImportProblem(row=number, column=col.header, message=problem.message))
        if rec is not None and len(errors) == errors_before:
            parsed.append((number, rec))
        if progress:
            progress("validate", done, len(body))
    registered = _registered(session, list(first_row))
    for uscc, number in first_row.items():
        if uscc in registered:
            errors.append(
                ImportProblem(
                    row=number,
                    column=uscc_header,
                    message=f"统一社会信用代码已登记: {uscc} (credit code already registered)",
                )
            )
    order = {c.header: i for i, c in enumerate(COLUMNS)}
    errors.sort(key=lambda e: (e.row, order.get(e.column, len(order))))
    return parsed, len(body), errors


def import_workbook(
    session: Session,
    actor: Actor,
    scope: Scope,
    sheet: Sheet,
    *,
    source: str = "",
    progress: ProgressFn | None = None,
) -> EnterpriseImportOutcome:
    """Import every row of a registry sheet (from ``read_file``), or none: if any row is
    wrong nothing is written and the outcome lists each problem. The caller's transaction is
    not committed here."""
    if service.is_enterprise_user(scope):
        raise Forbidden("企业用户不能导入企业 (enterprise users cannot import enterprises)")
    rows, count, errors = validate_workbook(session, scope, sheet, progress=progress)
    outcome = EnterpriseImportOutcome(rows=count, errors=errors)
    if errors:
        audit(
            session,
            actor,
            "enterprise.import",
            object_type="enterprise",
            result="failure",
            detail={"file": source, "rows": count, "errors": len(errors)},
        )
        return outcome
    for done, (_number, rec) in enumerate(rows, start=1):
        outcome.ids.append(service.create_enterprise(session, actor, scope, rec).id)
        if progress:
            progress("import", done, len(rows))
    outcome.imported = len(rows)
    audit(
        session,
        actor,
        "enterprise.import",
        object_type="enterprise",
        detail={"file": source, "rows": count, "imported": outcome.imported},
    )
    return outcome
