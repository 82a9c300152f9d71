"""How the four risk levels look on a page: marker colours, badge classes, and the list of
levels a legend or a count shows. Other domains' pages (the monitoring board, the dual
prevention overview) take them from here, not from the risk pages."""

from __future__ import annotations

from anjian.risk.rules import LEVELS_WORST_FIRST
from anjian.web.colours import FOUR_COLOURS, UNGRADED

# Marker colours of the four levels (Tabler's red, orange, yellow, blue) and of "not graded".
LEVEL_HEX: dict[str, str] = {
    level.value: colour for level, colour in zip(LEVELS_WORST_FIRST, FOUR_COLOURS, strict=True)
}
UNGRADED_HEX = UNGRADED
LEVEL_BADGES: dict[str, str] = {
    "major": "grade-1",
    "significant": "grade-2",
    "general": "grade-3",
    "low": "grade-4",
}
LEVELS = [
    {
        "code": level.value,
        "label": level.label,
        "short": level.label.removesuffix("风险"),
        "colour_label": level.colour_label,
        "hex": LEVEL_HEX[level.value],
        "badge": LEVEL_BADGES[level.value],
    }
    for level in LEVELS_WORST_FIRST
]
