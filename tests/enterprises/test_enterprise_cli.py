"""``anjian enterprise import|export`` as an operator at the server's console runs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from enterprise_helpers import make_uscc, row, sheet_rows, xlsx
from sqlalchemy import func, select
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.core.audit.models import AuditRecord
from anjian.enterprises.excel import HEADERS
from anjian.enterprises.models import Enterprise

NAME = HEADERS.index("企业名称")


def run(*args: str) -> Any:
    # A wide terminal so that Rich does not wrap the report's messages.
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": "250"})


def enterprise_count(node: Any) -> int:
    with node.db() as s:
        return s.scalar(select(func.count()).select_from(Enterprise)) or 0


def test_cli_export_writes_the_node_registry(personas: Any, tmp_path: Path) -> None:
    target = tmp_path / "全部.xlsx"
    result = run("enterprise", "export", str(target))
    assert result.exit_code == 0, result.output
    assert "已导出 2 家企业" in result.output
    rows = sheet_rows(target.read_bytes())
    assert rows[0] == HEADERS
    assert {r[NAME] for r in rows[1:]} == {"应县金鼎煤业有限公司", "山阴县晋北化工有限公司"}
    filtered = tmp_path / "煤矿.xlsx"
    assert run("enterprise", "export", str(filtered), "--category", "coal_mine").exit_code == 0
    assert [r[NAME] for r in sheet_rows(filtered.read_bytes())[1:]] == ["应县金鼎煤业有限公司"]
    with personas.db() as s:
        actors = list(
            s.scalars(
                select(AuditRecord.actor_name).where(AuditRecord.action == "enterprise.export")
            )
        )
    assert len(actors) == 2 and all(a.startswith("cli:") for a in actors)


def test_cli_import_creates_the_rows(personas: Any, tmp_path: Path) -> None:
    source = tmp_path / "新企业.xlsx"
    source.write_bytes(
        xlsx(
            row(
                统一社会信用代码=make_uscc(code),
                企业名称=f"企业{i}",
                行政区划代码=code,
                监管类别="非煤矿山",
                规模="小型",
            )
            for i, code in enumerate(["140622", "140621", "140602", "140105"] * 10)
        )
    )
    before = enterprise_count(personas)
    result = run("enterprise", "import", str(source))
    assert result.exit_code == 0, result.output
    assert "已导入 40 家企业" in result.output
    assert enterprise_count(personas) == before + 40


def test_cli_import_with_errors_exits_1_and_imports_nothing(personas: Any, tmp_path: Path) -> None:
    source = tmp_path / "有错.xlsx"
    source.write_bytes(
        xlsx(
            [
                row(
                    统一社会信用代码=make_uscc(),
                    企业名称="甲",
                    行政区划代码="140622",
                    监管类别="煤矿",
                ),
                row(
                    统一社会信用代码="91350100M000100Y44",
                    企业名称="乙",
                    行政区划代码="140622",
                    监管类别="煤矿",
                ),
                # The node is 山西省: a 北京 enterprise is outside the operator's jurisdiction.
                row(
                    统一社会信用代码=make_uscc(),
                    企业名称="丙",
                    行政区划代码="110101",
                    监管类别="煤矿",
                ),
            ]
        )
    )
    before = enterprise_count(personas)
    result = run("enterprise", "import", str(source))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a deliberate exit, not a crash
    assert "统一社会信用代码校验位错误" in result.output
    assert "行政区划 110101 不在您的管辖范围内" in result.output
    assert "未导入任何数据" in result.output
    assert enterprise_count(personas) == before
    with personas.db() as s:
        attempt = s.scalar(select(AuditRecord).where(AuditRecord.action == "enterprise.import"))
        assert attempt is not None and attempt.result == "failure"


def test_cli_import_of_a_broken_file_is_a_clean_error(personas: Any, tmp_path: Path) -> None:
    source = tmp_path / "坏.xlsx"
    source.write_bytes(b"not a workbook")
    result = run("enterprise", "import", str(source))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a deliberate exit, not a crash
    assert "无法读取 Excel 文件" in result.output
