"""How emergency records look on a map: the threat zones' colours (the scene map of an event,
the one map) and the markers of the resource kinds (the one map's legend)."""

from __future__ import annotations

from anjian.emergency.rules.resources import ResourceKind

# Threat zones from the highest threshold (the smallest, deadliest zone) down.
ZONE_COLOURS = ("#d63939", "#f76707", "#f59f00", "#74b816", "#4299e1")
# Emergency resources by kind (Tabler's blue, cyan, purple, dark, green and pink: none of the
# grade colours' red to yellow, each told apart from the others at a glance).
RESOURCE_COLOURS: dict[str, str] = {
    ResourceKind.TEAM.value: "#206bc4",
    ResourceKind.EQUIPMENT.value: "#17a2b8",
    ResourceKind.WAREHOUSE.value: "#ae3ec9",
    ResourceKind.EXPERT.value: "#1d273b",
    ResourceKind.SHELTER.value: "#2fb344",
    ResourceKind.MEDICAL.value: "#d6336c",
}
