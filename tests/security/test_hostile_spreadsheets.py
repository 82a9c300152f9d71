"""Hostile spreadsheets (issue 15): every Excel import refuses zip bombs, entity bombs,
row floods and files that are no workbook with a 422 on ``file`` and writes nothing; a sheet
that declares a huge size, or fills 16,384 columns, costs only the cells it holds; and values
stored with control characters still export.

The files are built in ``hostile_files`` (shared with ``bench/hostile_xlsx.py``, which
measures time and memory); no test here times anything."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from io import BytesIO
from typing import Any

import pytest
from hostile_files import (
    HEADER,
    MAIN,
    REFUSED,
    ROW,
    SHEET_PART,
    SPARSE,
    STRINGS_PART,
    billion_laughs,
    declared_dimension,
    empty_rows,
    package,
    row,
    sheet,
    wide_row,
)
from openpyxl import load_workbook
from sqlalchemy import func, select

from anjian.core.audit.models import AuditRecord
from anjian.core.downloads import XLSX_MEDIA_TYPE
from anjian.core.errors import Invalid
from anjian.core.xlsx import write_sheet
from anjian.core.xlsx_reader import (
    ELEMENTS_BASE,
    ELEMENTS_PER_ROW,
    MAX_COLUMNS,
    MAX_PARTS,
    MAX_RATIO,
    read_sheet,
)
from anjian.emergency.models import EmergencyResource
from anjian.enterprises.models import Enterprise
from anjian.hidden_hazards.models import Checklist
from anjian.monitoring.models import MonitoringPoint

# import -> (persona, URL given the node)
IMPORTS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "enterprises": ("sheng", lambda node: "/api/v1/enterprises/import"),
    "points": (
        "qiye",
        lambda node: (
            f"/api/v1/monitoring/points/import?enterprise_id={node.enterprises['ying_mine']}"
        ),
    ),
    "checklists": (
        "yingxian",
        lambda node: f"/api/v1/checklists/import?enterprise_id={node.enterprises['ying_mine']}",
    ),
    "emergency resources": ("yingxian", lambda node: "/api/v1/emergency/resources/import"),
}


def _upload(node: Any, which: str, data: bytes, headers: dict[str, str]) -> Any:
    return node.client.post(
        IMPORTS[which][1](node),
        files={"file": ("hostile.xlsx", data, XLSX_MEDIA_TYPE)},
        headers=headers,
    )


def _written(node: Any) -> tuple[int, ...]:
    """What an import could have written: enterprises, points, checklists, emergency
    resources, import audits."""
    with node.db() as s:
        imports = select(AuditRecord).where(AuditRecord.action.like("%.import")).subquery()
        return tuple(
            s.scalar(select(func.count()).select_from(table)) or 0
            for table in (Enterprise, MonitoringPoint, Checklist, EmergencyResource, imports)
        )


def _refused(call: Callable[[], Any]) -> Invalid:
    with pytest.raises(Invalid) as caught:
        call()
    assert caught.value.field == "file"
    return caught.value


# --- through the API ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", IMPORTS)
def test_every_import_refuses_hostile_files_before_writing(personas: Any, which: str) -> None:
    headers = personas.login(IMPORTS[which][0])
    before = _written(personas)
    for name, (build, words) in REFUSED.items():
        r = _upload(personas, which, build(), headers)
        assert r.status_code == 422, (name, r.text)
        assert r.json()["field"] == "file", name
        assert words in r.json()["detail"], (name, r.json())
    assert _written(personas) == before


@pytest.mark.parametrize("name", SPARSE)
def test_a_sheet_is_read_from_the_cells_it_holds(personas: Any, name: str) -> None:
    """A 5 KB file declaring A1:XFD1048576 once held the write lock for two minutes: now the
    cells it holds import (its row at 1,048,576; the first three of 16,384 columns)."""
    r = _upload(personas, "checklists", SPARSE[name](), personas.login("yingxian"))
    assert r.status_code == 200, r.text
    assert (r.json()["checklists"], r.json()["items"]) == (1, 1)
    with personas.db() as s:
        (cl,) = s.scalars(select(Checklist)).all()
        assert (cl.name, cl.frequency) == ("井下巡检", "daily")


def test_export_drops_control_characters_stored_before(personas: Any) -> None:
    """openpyxl refuses C0 controls in a cell: one stored name made every export a 500."""
    controls = "\x07\x1b\x0b" + ("\x00" if personas.url.startswith("sqlite") else "")
    with personas.db() as s:
        ent = s.get(Enterprise, personas.enterprises["ying_mine"])
        ent.name = f"应县{controls}金鼎煤业有限公司"
        ent.address = f"应县\t南河种镇{controls}"
    r = personas.client.get("/api/v1/enterprises/export.xlsx", headers=personas.login("sheng"))
    assert r.status_code == 200, r.text
    values = {v for row_ in load_workbook(BytesIO(r.content)).active.values for v in row_}
    assert {"应县金鼎煤业有限公司", "应县\t南河种镇"} <= values


# --- the reader --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REFUSED)
def test_reader_refuses(name: str) -> None:
    build, words = REFUSED[name]
    assert words in _refused(lambda: read_sheet(build(), max_rows=100_000)).message


@pytest.mark.parametrize("part", [SHEET_PART, STRINGS_PART, "xl/workbook.xml"])
def test_a_dtd_is_refused_in_any_part_read(part: str) -> None:
    assert "DTD" in _refused(lambda: read_sheet(billion_laughs(part), max_rows=10)).message


def test_blank_rows_count_against_the_limit() -> None:
    assert read_sheet(empty_rows(10), max_rows=10).rows == []
    assert "10 行" in _refused(lambda: read_sheet(empty_rows(11), max_rows=10)).message


@pytest.mark.parametrize("where", ["sheet", "shared strings"])
def test_xml_elements_are_bounded_by_the_row_limit(where: str) -> None:
    """However its bytes are spent (empty cells, rich-text runs, a bloated string table),
    a file may hold only so many elements a row: what bounds the time it takes."""
    budget = 2 * ELEMENTS_PER_ROW + ELEMENTS_BASE  # max_rows=1: a header and one row
    flood = "<c/>" * budget
    strings = f'<sst xmlns="{MAIN}"><si>{"<r/>" * budget}</si></sst>'.encode()
    if where == "sheet":
        data = package(sheet(row(1, HEADER) + f'<row r="2">{flood}</row>'))
    else:
        data = package(sheet(row(1, HEADER)), strings=strings)
    assert "XML 元素" in _refused(lambda: read_sheet(data, max_rows=1)).message
    fits = "<c/>" * (budget - 200)
    assert read_sheet(package(sheet(row(1, HEADER) + f"<row>{fits}</row>")), max_rows=1).rows == []


def test_sparse_sheets_cost_their_cells() -> None:
    header, rows = read_sheet(declared_dimension(), max_rows=1)
    assert (header, rows) == (list(HEADER), [(1_048_576, ROW)])
    header, rows = read_sheet(wide_row(), max_rows=1)
    assert len(header) == MAX_COLUMNS and header[3] == "备注4"  # columns past IV unread
    ((number, values),) = rows
    assert (number, values[:3], len(values)) == (2, ROW, MAX_COLUMNS)
    # a row is read up to its header's last column
    header, rows = read_sheet(package(sheet(row(1, HEADER) + row(2, ("x", *ROW)))), max_rows=1)
    assert rows == [(2, ("x", *ROW[:2]))]


def test_the_package_is_checked_before_it_is_unpacked() -> None:
    zeros = package(sheet(row(1, HEADER)), extra=[("xl/media/image1.png", b"\0" * 4_000_000)])
    assert f"{MAX_RATIO} to 1" in _refused(lambda: read_sheet(zeros, max_rows=10)).message
    big = package(sheet(row(1, HEADER)), extra=[("xl/media/image1.png", b"\0" * 2_000_000)])
    assert "1 MB" in _refused(lambda: read_sheet(big, max_rows=10, max_bytes=2**20)).message
    many = [(f"xl/media/image{n}.png", b"") for n in range(MAX_PARTS)]
    crowded = package(sheet(row(1, HEADER)), extra=many)
    assert f"{MAX_PARTS}" in _refused(lambda: read_sheet(crowded, max_rows=10)).message
    bzip2 = package(sheet(row(1, HEADER)), compression=zipfile.ZIP_BZIP2)
    assert "无法读取" in _refused(lambda: read_sheet(bzip2, max_rows=10)).message


def test_write_sheet_leaves_control_characters_out() -> None:
    data = write_sheet("表", [("名称", 10)], [["a\x00b\x08c\td\ne"]], caption="标题\x1f")
    assert list(load_workbook(BytesIO(data)).active.values) == [
        ("标题",),
        ("名称",),
        ("abc\td\ne",),
    ]
