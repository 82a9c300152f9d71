"""The layers of the one map, each written by its domain (its ``map_layer`` module), by name."""

from __future__ import annotations

from anjian.core.map_features import Layer
from anjian.enterprises.map_layer import LAYER as ENTERPRISES

LAYERS: dict[str, Layer] = {layer.name: layer for layer in (ENTERPRISES,)}
