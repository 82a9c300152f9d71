"""The layers of the one map, each written by its domain (its ``map_layer`` module), by name,
in the order the page lists them."""

from __future__ import annotations

from anjian.accidents.map_layer import LAYER as ACCIDENTS
from anjian.core.divisions.map_layer import LAYER as DIVISIONS
from anjian.core.map_features import Layer, ShapeLayer
from anjian.emergency.map_layer import EVENTS, RESOURCES, THREAT_ZONES
from anjian.enterprises.map_layer import LAYER as ENTERPRISES
from anjian.hidden_hazards.map_layer import LAYER as HIDDEN_HAZARDS
from anjian.major_hazards.map_layer import LAYER as MAJOR_HAZARDS
from anjian.monitoring.map_layer import LAYER as ALARMS
from anjian.risk.map_layer import LAYER as RISK

LAYERS: dict[str, Layer | ShapeLayer] = {
    layer.name: layer
    for layer in (
        ENTERPRISES,
        RISK,
        MAJOR_HAZARDS,
        ALARMS,
        HIDDEN_HAZARDS,
        ACCIDENTS,
        RESOURCES,
        EVENTS,
        THREAT_ZONES,
        DIVISIONS,
    )
}
