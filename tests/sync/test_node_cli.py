"""`anjian node …` and `anjian sync export` as an operator runs them, in real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ANJIAN = str(Path(sys.executable).parent / "anjian")


def _run(tmp: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANJIAN_")}
    env["ANJIAN_DATA_DIR"] = str(tmp)
    return subprocess.run(
        [ANJIAN, *args], env=env, capture_output=True, text=True, timeout=120, input=input
    )


def test_node_init_link_status_and_bundle(tmp_path: Path) -> None:
    parent, child = tmp_path / "city", tmp_path / "county"
    assert _run(parent, "node", "init", "--division", "140600").returncode == 0
    assert 'node_division = "140600"' in (parent / "anjian.toml").read_text(encoding="utf-8")

    bad = _run(parent, "node", "link", "140100")  # 太原: not below 朔州
    assert bad.returncode == 1 and "下级" in bad.stderr
    linked = _run(parent, "node", "link", "140622")
    assert linked.returncode == 0, linked.stderr
    key = linked.stdout.strip().splitlines()[-1]
    assert len(key) >= 40

    half = _run(child, "node", "init", "--division", "140622", "--parent", "http://127.0.0.1:9")
    assert half.returncode == 1 and "--link-key" in half.stderr
    ok = _run(
        child,
        "node",
        "init",
        "--division",
        "140622",
        "--parent",
        "http://127.0.0.1:9",
        "--link-key",
        key,
    )
    assert ok.returncode == 0, ok.stderr
    status = _run(child, "node", "status")
    assert status.returncode == 0 and "应县" in status.stdout and "parent" in status.stdout

    # A change at the county, carried by a bundle across a "file ferry" to the city.
    add = _run(child, "org", "add", "应县应急管理局", "--kind", "agency", "--division", "140622")
    assert add.returncode == 0, add.stderr
    bundle = tmp_path / "ferry.bundle"
    exported = _run(child, "sync", "export", "--to-parent", str(bundle))
    assert exported.returncode == 0 and "1 条" in exported.stdout, exported.stderr
    imported = _run(parent, "sync", "import", str(bundle))
    assert imported.returncode == 0, imported.stderr
    assert "应用 1 条" in imported.stdout and "organisation 1" in imported.stdout
    listed = _run(parent, "org", "list")
    assert "应县应急管理局" in listed.stdout
    again = _run(parent, "sync", "import", str(bundle))
    assert again.returncode == 0 and "应用 0 条" in again.stdout

    # A bundle from a node the city never linked is refused.
    other = tmp_path / "other"
    assert (
        _run(
            other,
            "node",
            "init",
            "--division",
            "140621",
            "--parent",
            "http://127.0.0.1:9",
            "--link-key",
            key,
        ).returncode
        == 0
    )
    assert (
        _run(
            other, "org", "add", "山阴县应急管理局", "--kind", "agency", "--division", "140621"
        ).returncode
        == 0
    )
    foreign = tmp_path / "foreign.bundle"
    assert _run(other, "sync", "export", "--to-parent", str(foreign)).returncode == 0
    refused = _run(parent, "sync", "import", str(foreign))
    assert refused.returncode == 1 and "140621" in refused.stderr
