"""Copy the console's front-end assets from node_modules into the package's static folder.

Intranet deployments have no CDN, so the console serves every asset itself from
``/static/vendor/``. Run after ``npm ci`` (at set-up time, not at run time)::

    npm ci && python3 scripts/assets.py

Only the files the pages load are copied (plus the licences), so the wheel stays small.
``--check`` only reports whether every file is in place (exit 1 when one is missing)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "src" / "anjian" / "web" / "static" / "vendor"

# package -> [(file in the package, path under vendor/<short name>/)]
ASSETS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "@tabler/core": (
        "tabler",
        [
            ("dist/css/tabler.min.css", "tabler.min.css"),
            ("dist/js/tabler.min.js", "tabler.min.js"),  # MIT; the licence is in each header
        ],
    ),
    "leaflet": (
        "leaflet",
        [
            ("dist/leaflet.css", "leaflet.css"),
            ("dist/leaflet.js", "leaflet.js"),
            ("dist/images/layers.png", "images/layers.png"),
            ("dist/images/layers-2x.png", "images/layers-2x.png"),
            ("dist/images/marker-icon.png", "images/marker-icon.png"),
            ("dist/images/marker-icon-2x.png", "images/marker-icon-2x.png"),
            ("dist/images/marker-shadow.png", "images/marker-shadow.png"),
            ("LICENSE", "LICENSE"),
        ],
    ),
    "htmx.org": ("htmx", [("dist/htmx.min.js", "htmx.min.js"), ("LICENSE", "LICENSE")]),
    "echarts": ("echarts", [("dist/echarts.min.js", "echarts.min.js"), ("LICENSE", "LICENSE")]),
    # The API documentation at /docs, served locally (FastAPI's default loads it from a CDN).
    "swagger-ui-dist": (
        "swagger-ui",
        [
            ("swagger-ui-bundle.js", "swagger-ui-bundle.js"),
            ("swagger-ui.css", "swagger-ui.css"),
            ("LICENSE", "LICENSE"),
        ],
    ),
}


def _version(package: str) -> str:
    meta = json.loads((NODE_MODULES / package / "package.json").read_text(encoding="utf-8"))
    return str(meta["version"])


def main(argv: list[str]) -> int:
    check_only = "--check" in argv
    missing: list[str] = []
    versions: dict[str, str] = {}
    for package, (short, files) in ASSETS.items():
        for src_rel, dst_rel in files:
            src = NODE_MODULES / package / src_rel
            dst = VENDOR / short / dst_rel
            if check_only:
                if not dst.is_file():
                    missing.append(str(dst.relative_to(ROOT)))
                continue
            if not src.is_file():
                missing.append(f"{package}/{src_rel}")
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        if not check_only and (NODE_MODULES / package / "package.json").is_file():
            versions[package] = _version(package)
    if missing:
        hint = "" if check_only else " (run `npm ci` first)"
        print(f"missing{hint}:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    if not check_only:
        (VENDOR / "versions.json").write_text(
            json.dumps(versions, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        print(f"copied {sum(len(f) for _, f in ASSETS.values())} files into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
