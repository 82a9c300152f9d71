"""Hostile spreadsheets against the Excel imports (issue 15): the time and peak memory of each
import's ``read_file`` (the shared reader with that import's limits, what its API handler
runs before touching the database) on each file of ``tests/security/hostile_files.py``, and
on the largest files the imports accept:

* **registry export**: the enterprise registry's layout, ``MAX_ROWS`` (100,000) rows, as the
  export writes it (inline strings, ~110 MB unpacked): the worst an honest file costs;
* **densest accepted**, for each import: a header of 256 columns and rows of 256 cells
  (small numbers, or inline text) up to just under the import's budget of XML elements (or
  its unpacked bound): the worst an accepted hostile file costs in time (numbers) and memory
  (text); and the same just over the budget, refused.

Each file is read in a fresh process (``python bench/hostile_xlsx.py --child FILE IMPORT``):
time is the wall and CPU time of ``read_file`` alone (CPU time is what the machine's other
work does not change); peak RSS is the process's ``VmHWM``, the interpreter, the imports and
the upload's bytes included (the same before reading is shown as ``base``; not
``ru_maxrss``, which keeps the forking parent's size across ``exec``). Prints a table and,
last, one JSON line.

    .venv/bin/python bench/hostile_xlsx.py [--quick]   # --quick: no accepted big files
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "security"))

from hostile_files import REFUSED, SPARSE, package, row, sheet  # the tests' files

IMPORTS = ("enterprises", "points", "checklists")


def _module(which: str) -> Any:
    """The Excel module of an import: its ``read_file``, ``MAX_ROWS`` and unpacked bound."""
    if which == "enterprises":
        from anjian.enterprises import excel
    elif which == "points":
        from anjian.monitoring import excel
    else:
        from anjian.hidden_hazards.checklists import excel
    return excel


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM) in MB."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def child(path: str, which: str) -> None:
    """Read one file as the import ``which`` does; print what it cost as JSON."""
    from anjian.core.errors import Invalid

    read_file = _module(which).read_file
    data = Path(path).read_bytes()
    base = _peak_mb()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        header, rows = read_file(data)
        outcome = f"read: {len(rows)} rows of {len(header)} columns"
    except Invalid as exc:
        outcome = f"422 {exc.field}: {exc.message.split(' (')[0]}"
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _peak_mb()
    print(
        json.dumps(
            {"s": seconds, "cpu_s": cpu, "peak_mb": peak, "base_mb": base, "outcome": outcome}
        )
    )


def registry_export() -> bytes:
    """``MAX_ROWS`` enterprises in the export layout, written as the export writes them."""
    from anjian.core.xlsx import write_sheet
    from anjian.enterprises.excel import COLUMNS, MAX_ROWS
    from anjian.enterprises.rules import compose_uscc

    rows = (
        [
            compose_uscc("140622", f"MA{i:06d}"),
            f"应县第{i}号金鼎煤业有限公司",
            "140622",
            f"山西省朔州市应县南河种镇第{i}号大街一百二十号",
            113.19 + i / 1e6,
            39.55,
            "B0610",
            "煤矿",
            "中型",
            120 + i % 50,
            "张三丰",
            "139****5678",
            "李安全",
            "136****5432",
            f"（晋）MK安许证字〔2025〕{i}",
            date(2027, 6, 30),
            "正常生产",
        ]
        for i in range(MAX_ROWS)
    )
    return write_sheet("企业档案", [(c.header, c.width) for c in COLUMNS], rows)


def dense(which: str, cell: str, *, over: bool = False) -> bytes:
    """A header of 256 columns, then rows of 256 cells (``cell`` formatted with a number)
    up to just under the element budget and unpacked bound of the import ``which`` (``over``:
    just over the element budget), all within the columns the header makes read."""
    from anjian.core.xlsx_reader import (
        ELEMENTS_BASE,
        ELEMENTS_PER_ROW,
        MAX_COLUMNS,
        MAX_UNPACKED_BYTES,
    )

    excel = _module(which)
    max_bytes = getattr(excel, "MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES)
    budget = (excel.MAX_ROWS + 1) * ELEMENTS_PER_ROW + ELEMENTS_BASE
    elements_per_cell = cell.count("</")
    target = budget + 1_000 if over else budget - 1_000
    rng = random.Random(15)
    parts = [row(1, (f"列{n}" for n in range(1, MAX_COLUMNS + 1)))]
    elements, size, number = MAX_COLUMNS * 3 + 20, 0, 1
    while elements + MAX_COLUMNS * elements_per_cell + 1 < target:
        number += 1
        cells = "".join(cell.format(rng.randrange(100)) for _ in range(MAX_COLUMNS))
        parts.append(f"<row>{cells}</row>")
        elements += MAX_COLUMNS * elements_per_cell + 1
        size += len(parts[-1].encode())
        if size > max_bytes * 0.97:
            break
    if over:
        parts.append(f"<row>{'<c/>' * (target - elements)}</row>")
    return package(sheet("".join(parts), dimension="A1:IV100001"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the accepted big files")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "IMPORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    files: list[tuple[str, Any, tuple[str, ...]]] = [
        *((name, build, IMPORTS) for name, (build, _words) in REFUSED.items()),
        *((name, build, IMPORTS) for name, build in SPARSE.items()),
    ]
    if not args.quick:
        numbers, text = (
            "<c><v>{}</v></c>",
            '<c t="inlineStr"><is><t>安全生产检查记录{}</t></is></c>',
        )
        files.append(("registry export, 100,000 rows", registry_export, ("enterprises",)))
        for which in IMPORTS:
            files += [
                ("densest accepted: numbers", partial(dense, which, numbers), (which,)),
                ("densest accepted: text", partial(dense, which, text), (which,)),
                ("elements over the budget", partial(dense, which, numbers, over=True), (which,)),
            ]
    results = []
    print(
        f"{'file':32} {'upload':>8} {'import':12} {'time':>8} {'cpu':>8} {'peak':>8} {'base':>6}"
        "  outcome"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, imports in files:
            path = Path(tmp) / "file.xlsx"
            path.write_bytes(build())
            size = path.stat().st_size
            for which in imports:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), which],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                r = json.loads(out.strip().splitlines()[-1])
                results.append({"file": name, "bytes": size, "import": which, **r})
                print(
                    f"{name:32} {size / 1e6:7.2f}M {which:12} {r['s']:7.3f}s {r['cpu_s']:7.3f}s "
                    f"{r['peak_mb']:6.0f}MB {r['base_mb']:5.0f}  {r['outcome']}",
                    flush=True,
                )
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
