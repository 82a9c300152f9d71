"""Decision support: dispersion (扩散分析) — the Gaussian plume at a receptor and the threat zones
(威胁区域) drawn over the map with the enterprises, the emergency resources (shelters, medical
points, teams …) and the protection targets (schools, hospitals, population points, with their
distance from the source and the zone's totals of targets and people) inside each zone, within
the caller's scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from anjian.core.errors import Invalid
from anjian.core.scope import Scope
from anjian.emergency import chemicals
from anjian.emergency.models import EmergencyResource
from anjian.emergency.rules import dispersion as rules
from anjian.emergency.rules.resources import KIND_LABELS, great_circle_km
from anjian.emergency.schemas import ChemicalInfo, DispersionAnswer, DispersionRequest
from anjian.emergency.targets.models import ProtectionTarget
from anjian.emergency.targets.rules import KIND_LABELS as TARGET_KIND_LABELS
from anjian.emergency.targets.rules import zone_totals
from anjian.enterprises.models import Enterprise

BRIGGS_RANGE_M = (100.0, 10_000.0)  # where the Briggs curves were fitted
DEFAULT_LEVELS = ("AEGL-3", "AEGL-2", "AEGL-1")
MAX_LISTED = 200  # enterprises, resources or protection targets named per zone


def _rule(call: Any, *args: Any, **kwargs: Any) -> Any:
    """A rule's ValueError ("<parameter> must …") as a 422 naming the parameter."""
    try:
        return call(*args, **kwargs)
    except ValueError as exc:
        message = str(exc)
        raise Invalid(f"扩散参数无效: {message}", field=message.split(" ", 1)[0]) from None


def _stability(req: DispersionRequest) -> tuple[str, bool]:
    if req.stability is not None:
        return req.stability, False
    if req.daytime is None:
        raise Invalid(
            "请给出大气稳定度 (A–F)，或给出白天/夜间及日照强度/云量以推算 "
            "(give stability, or daytime with insolation or cloud cover)",
            field="stability",
        )
    cls = _rule(
        rules.stability_class,
        req.wind_speed_m_s,
        daytime=req.daytime,
        insolation=req.insolation,
        cloud_cover_octas=req.cloud_cover_octas,
    )
    return cls, True


def _thresholds(
    req: DispersionRequest,
) -> tuple[list[tuple[str, float]], chemicals.Chemical | None, list[str]]:
    """The thresholds to draw, each with its label, the chemical named, and warnings."""
    warnings: list[str] = []
    chem = None
    wanted = [(f"{t:g} mg/m³", t) for t in req.thresholds_mg_m3]
    if req.chemical:
        chem = chemicals.chemical(req.chemical)
        if chem is None:
            raise Invalid(
                f"没有该物质的阈值数据: {req.chemical} (unknown chemical)", field="chemical"
            )
        for level in req.levels or DEFAULT_LEVELS:
            value = chemicals.threshold_mg_m3(chem, level)
            if value is None:
                warnings.append(f"{chem.name}没有 {level} 阈值数据，未绘制该区域")
            else:
                wanted.append((f"{level} {value:.3g} mg/m³", value))
        if not chem.verified:
            warnings.append(f"{chem.name}的阈值数据未逐项核实，请以权威来源为准")
        if chem.dense:
            warnings.append(
                f"{chem.name}泄漏可能形成重气云（比空气重），高斯烟羽模型不适用，结果仅供参考"
            )
    elif req.levels:
        raise Invalid("给出 levels 时须同时给出 chemical (levels need a chemical)", field="levels")
    if not wanted:
        raise Invalid(
            "绘制威胁区域须给出 thresholds_mg_m3 或 chemical (thresholds or a chemical)",
            field="thresholds_mg_m3",
        )
    return sorted(wanted, key=lambda w: -w[1]), chem, warnings


def _inside(
    session: Session, scope: Scope, ring: list[tuple[float, float]], source: tuple[float, float]
) -> dict[str, Any]:
    """What in scope lies in the polygon ``ring`` (read from the database within its bounding
    box only): the enterprises, the resources, and the protection targets nearest ``source``
    first, each with its distance from it, with the zone's totals of targets and people (over
    every target inside, also those past the :data:`MAX_LISTED` named)."""
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    west, east, south, north = min(lngs), max(lngs), min(lats), max(lats)

    def inside(model: Any, *columns: Any) -> list[Any]:
        stmt = (
            scope.select(model, *columns)
            .where(model.lng.between(west, east), model.lat.between(south, north))
            .order_by(model.id)
        )
        rows = session.execute(stmt).all()
        return [r for r in rows if rules.point_in_ring(r.lng, r.lat, ring)]

    def within(model: Any, *columns: Any) -> list[Any]:
        return inside(model, *columns)[:MAX_LISTED]

    ents = within(Enterprise, Enterprise.id, Enterprise.name, Enterprise.lng, Enterprise.lat)
    res = within(
        EmergencyResource,
        EmergencyResource.id,
        EmergencyResource.name,
        EmergencyResource.kind,
        EmergencyResource.lng,
        EmergencyResource.lat,
    )
    targets = sorted(
        (
            (round(great_circle_km(*source, t.lng, t.lat) * 1000), t)
            for t in inside(
                ProtectionTarget,
                ProtectionTarget.id,
                ProtectionTarget.name,
                ProtectionTarget.kind,
                ProtectionTarget.population,
                ProtectionTarget.lng,
                ProtectionTarget.lat,
            )
        ),
        key=lambda found: (found[0], found[1].id),
    )
    totals = zone_totals(t.population for _, t in targets)
    return {
        "enterprises": [{"id": e.id, "name": e.name} for e in ents],
        "resources": [
            {"id": r.id, "name": r.name, "kind": KIND_LABELS.get(r.kind, r.kind)} for r in res
        ],
        "targets": [
            {
                "id": t.id,
                "name": t.name,
                "kind": t.kind,
                "kind_label": TARGET_KIND_LABELS.get(t.kind, t.kind),
                "population": t.population,
                "distance_m": distance,
            }
            for distance, t in targets[:MAX_LISTED]
        ],
        "target_count": totals.targets,
        "population_total": totals.population,
        "population_unknown": totals.population_unknown,
    }


def analyse(session: Session, scope: Scope, req: DispersionRequest) -> DispersionAnswer:
    """The plume at the receptor and, with a place and a wind direction, the threat zones."""
    stability, derived = _stability(req)
    base = (req.release_g_s, req.release_height_m, req.wind_speed_m_s, stability, req.terrain)
    answer = DispersionAnswer(model=req.model, stability=stability, stability_derived=derived)
    placed = [req.lng, req.lat, req.wind_from_deg]
    if req.receptor_x_m is None and all(v is None for v in placed):
        raise Invalid(
            "请给出接收点 receptor_x_m，或给出 lng、lat、wind_from_deg 以绘制威胁区域 "
            "(a receptor or a place)",
            field="receptor_x_m",
        )
    if req.receptor_x_m is not None:
        p = _rule(rules.plume, *base, req.receptor_x_m, req.receptor_y_m, req.receptor_z_m)
        answer.concentration_mg_m3 = p.concentration_mg_m3
        answer.sigma_y_m, answer.sigma_z_m = p.sigma_y_m, p.sigma_z_m
        low, high = BRIGGS_RANGE_M
        if not low <= req.receptor_x_m <= high and req.receptor_x_m > 0:
            answer.warnings.append("接收点在 Briggs 公式的拟合范围（100 m–10 km）之外，结果为外推")
    if all(v is None for v in placed):
        return answer
    for name, value in zip(("lng", "lat", "wind_from_deg"), placed, strict=True):
        if value is None:
            raise Invalid(f"绘制威胁区域须给出 {name} (needed for threat zones)", field=name)
    wanted, chem, warnings = _thresholds(req)
    answer.warnings += warnings
    if chem is not None:
        answer.chemical = ChemicalInfo(
            name=chem.name,
            cas=chem.cas,
            dense=chem.dense,
            dense_note=chem.dense_note,
            verified=chem.verified,
            sources=list(chem.sources),
        )
    features = []
    for label, threshold in wanted:
        outline = _rule(rules.zone_outline, *base, threshold, max_distance_m=req.max_distance_m)
        length = outline and max(x for x, _ in outline)
        if not outline:
            answer.warnings.append(f"浓度未达到 {label}，无此区域")
            continue
        if length >= req.max_distance_m:
            answer.warnings.append(f"{label} 区域超出计算范围 {req.max_distance_m:g} m，已截断")
        ring = _rule(rules.to_lnglat, outline, req.lng, req.lat, req.wind_from_deg)
        found = _inside(session, scope, ring, (req.lng, req.lat))
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
                "properties": {
                    "label": label,
                    "threshold_mg_m3": threshold,
                    "length_m": round(length, 1),
                    **found,
                },
            }
        )
    answer.zones = {"type": "FeatureCollection", "features": features}
    return answer
