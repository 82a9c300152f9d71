"""Layers of the one map (一张图) and the answer to one request for a layer in a box: the single
features when few fall inside, otherwise clusters counted in the database by grid cell — with
each cluster's breakdown by kind for the legend — so no answer holds more than a few thousand
features however many records the node keeps. Always within the caller's scope: a layer's
query is a scoped select its domain writes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Select, and_, cast, func, select
from sqlalchemy.orm import Session

from anjian.core.clock import CST
from anjian.core.errors import Invalid
from anjian.core.mapgrid import MAX_FEATURES, BBox, cell_size
from anjian.core.scope import Scope

MAX_CELLS = 4000  # clusters in one answer at most: coarser cells when a box would hold more
MAX_SHAPES = 300  # polygons in one answer at most (a shape layer draws few, each in full)
OTHER_COLOUR = "#868e96"


@dataclass(frozen=True)
class Layer:
    """One layer of the map. ``rows(session, scope, params)`` is the scoped select of its
    records with columns labelled ``id``, ``name``, ``lng``, ``lat`` and ``kind`` (the legend's
    category, a key of ``kinds``) — more labelled columns become the features' properties;
    ``params`` are the request's filters named in ``filters``. ``href`` names a record's page
    with ``{id}`` (or any other column: ``{kind}``). A single feature's popup reads the lines
    of ``details`` (caption, property); ``labels`` names the codes of a property (it gains a
    ``<property>_label``). ``staff_only``: not for enterprise users (the records' pages are
    staff pages). ``places(session, scope, params)``, when given, is the same records counted
    per place — columns ``lng``, ``lat``, ``kind`` and ``n`` — which clusters use instead of
    the rows: a layer of many records at few places (hidden hazards at their enterprise)
    counts them before joining the places, not after."""

    name: str
    label: str
    rows: Callable[[Session, Scope, Mapping[str, str]], Select[Any]]
    kinds: Mapping[str, str]
    colours: Mapping[str, str]
    href: str
    filters: tuple[str, ...] = ()
    staff_only: bool = False
    labels: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    details: tuple[tuple[str, str], ...] = ()
    places: Callable[[Session, Scope, Mapping[str, str]], Select[Any]] | None = None


@dataclass(frozen=True)
class ShapeLayer:
    """A layer of polygons (the threat zones of a dispersion analysis): few, each drawn in full,
    never clustered. ``shapes(session, scope, box, zoom, params)`` answers the GeoJSON features
    in scope whose outline meets ``box`` — each with ``id``, ``name`` and ``kind`` among its
    properties — at most :data:`MAX_SHAPES` of them (the first, in the layer's own order); a
    feature's ``fill_opacity`` property, when set, is how much of its colour fills it."""

    name: str
    label: str
    shapes: Callable[[Session, Scope, BBox, int, Mapping[str, str]], list[dict[str, Any]]]
    kinds: Mapping[str, str]
    colours: Mapping[str, str]
    href: str
    filters: tuple[str, ...] = ()
    staff_only: bool = False
    labels: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    details: tuple[tuple[str, str], ...] = ()


def choice(params: Mapping[str, str], name: str, known: Mapping[Any, str], what: str) -> str | None:
    """The filter ``name`` of a request if given: one of the codes of ``known`` (compared as
    text, so ``grade=1`` matches the key 1), else a 422 naming the filter; ``what`` is the
    Chinese name of what it chooses (``隐患等级``)."""
    value = params.get(name)
    if not value:
        return None
    if value not in {str(k) for k in known}:
        codes = ", ".join(str(k) for k in known)
        raise Invalid(f"未知{what}: {value[:40]} ({name} must be one of {codes})", field=name)
    return value


def _cell(column: Any, origin: float, size: float, dialect: str) -> ColumnElement[int]:
    # Counted from -180/-90 so the value is never negative: SQLite's integer cast truncates,
    # which is then the floor; PostgreSQL's cast rounds, so it takes floor() first.
    shifted = (column + origin) / size
    if dialect == "postgresql":
        return cast(func.floor(shifted), Integer)
    return cast(shifted, Integer)


def _legend(layer: Layer | ShapeLayer, counts: Mapping[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind,
            "label": layer.kinds.get(kind, kind),
            "colour": layer.colours.get(kind, OTHER_COLOUR),
            "count": n,
        }
        for kind, n in sorted(counts.items(), key=lambda kv: -kv[1])
    ]


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(CST).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _looks(layer: Layer | ShapeLayer, props: dict[str, Any]) -> dict[str, Any]:
    """What a single feature shows: its kind's name and colour, its page, the labels of its
    coded properties and its popup's lines."""
    kind = props["kind"]
    out = {
        "kind_label": layer.kinds.get(kind, kind),
        "colour": layer.colours.get(kind, OTHER_COLOUR),
        "href": layer.href.format_map(props),
    }
    for prop, names in layer.labels.items():
        value = props.get(prop)
        out[f"{prop}_label"] = names.get(value, value) if value is not None else ""
    seen = props | out
    out["lines"] = [
        f"{caption}：{_text(seen[prop])}"
        for caption, prop in layer.details
        if seen.get(prop) not in (None, "")
    ]
    return out


def _point(lng: float, lat: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]},
        "properties": properties,
    }


def _within(sub: Any, box: BBox) -> ColumnElement[bool]:
    return and_(
        sub.c.lng >= box.min_lng,
        sub.c.lng <= box.max_lng,
        sub.c.lat >= box.min_lat,
        sub.c.lat <= box.max_lat,
    )


def collect(
    session: Session,
    layer: Layer,
    scope: Scope,
    box: BBox,
    zoom: int,
    params: Mapping[str, str],
    *,
    max_features: int = MAX_FEATURES,
) -> dict[str, Any]:
    """The GeoJSON FeatureCollection of ``layer`` in ``box`` at ``zoom``: single features (each
    with ``kind_label``, ``colour`` and ``href``) when at most ``max_features`` fall inside,
    else clusters (``cluster``, ``count``, ``breakdown`` by kind, ``colour`` of the largest
    kind) at the count-weighted centre of their cell; ``total`` and the ``legend`` (counts by
    kind inside the box) either way."""
    sub = layer.rows(session, scope, params).subquery()
    inside = _within(sub, box)
    # One query when few fall inside: ask for one more than may be drawn; only past that are
    # they counted, by cell.
    rows = session.execute(select(sub).where(inside).limit(max_features + 1)).mappings().all()
    out: dict[str, Any] = {"type": "FeatureCollection", "layer": layer.name}
    if len(rows) <= max_features:
        counts: dict[str, int] = {}
        features = []
        for row in rows:
            props = {k: v for k, v in row.items() if k not in ("lng", "lat")}
            kind = props["kind"]
            counts[kind] = counts.get(kind, 0) + 1
            props |= _looks(layer, props)
            features.append(_point(row["lng"], row["lat"], props))
        return out | {
            "total": len(rows),
            "clustered": False,
            "features": features,
            "legend": _legend(layer, counts),
        }

    size = cell_size(zoom, box.mid_lat)
    # A box far larger than the zoom's view (a hostile or careless client) gets coarser cells.
    cells = (box.max_lng - box.min_lng) / size[0] * (box.max_lat - box.min_lat) / size[1]
    while cells > MAX_CELLS:
        size, cells = (size[0] * 2, size[1] * 2), cells / 4
    dialect = session.get_bind().dialect.name
    if layer.places is None:
        n: Any = func.count()
        sum_lng, sum_lat = func.sum(sub.c.lng), func.sum(sub.c.lat)
    else:
        sub = layer.places(session, scope, params).subquery()
        inside = _within(sub, box)
        n = cast(func.sum(sub.c.n), BigInteger)  # PostgreSQL sums counts as numeric
        sum_lng, sum_lat = func.sum(sub.c.lng * sub.c.n), func.sum(sub.c.lat * sub.c.n)
    gx = _cell(sub.c.lng, 180.0, size[0], dialect).label("gx")
    gy = _cell(sub.c.lat, 90.0, size[1], dialect).label("gy")
    stmt = (
        select(
            gx,
            gy,
            sub.c.kind,
            n.label("n"),
            sum_lng.label("sum_lng"),
            sum_lat.label("sum_lat"),
        )
        .where(inside)
        .group_by(gx, gy, sub.c.kind)
    )
    grid: dict[tuple[int, int], dict[str, Any]] = {}
    counts = {}
    for cx, cy, kind, n, sum_lng, sum_lat in session.execute(stmt):
        cell = grid.setdefault((cx, cy), {"n": 0, "lng": 0.0, "lat": 0.0, "breakdown": {}})
        cell["n"] += n
        cell["lng"] += sum_lng
        cell["lat"] += sum_lat
        cell["breakdown"][kind] = n
        counts[kind] = counts.get(kind, 0) + n
    features = []
    for (cx, cy), cell in sorted(grid.items()):
        top = max(cell["breakdown"].items(), key=lambda kv: kv[1])[0]
        props = {
            "cluster": True,
            "cell": [cx, cy],
            "count": cell["n"],
            "breakdown": cell["breakdown"],
            "colour": layer.colours.get(top, OTHER_COLOUR),
        }
        features.append(_point(cell["lng"] / cell["n"], cell["lat"] / cell["n"], props))
    return out | {
        "total": sum(counts.values()),
        "clustered": True,
        "cell_deg": [size[0], size[1]],
        "features": features,
        "legend": _legend(layer, counts),
    }


def collect_shapes(
    session: Session,
    layer: ShapeLayer,
    scope: Scope,
    box: BBox,
    zoom: int,
    params: Mapping[str, str],
) -> dict[str, Any]:
    """The GeoJSON FeatureCollection of a shape layer in ``box`` at ``zoom``: its polygons (each with
    ``kind_label``, ``colour`` and ``href``), at most :data:`MAX_SHAPES`, with ``total`` and the
    ``legend``; never clustered."""
    features = layer.shapes(session, scope, box, zoom, params)[:MAX_SHAPES]
    counts: dict[str, int] = {}
    for feature in features:
        props = feature["properties"]
        counts[props["kind"]] = counts.get(props["kind"], 0) + 1
        props |= _looks(layer, props)
    return {
        "type": "FeatureCollection",
        "layer": layer.name,
        "total": len(features),
        "clustered": False,
        "features": features,
        "legend": _legend(layer, counts),
    }
