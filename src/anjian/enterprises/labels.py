"""How enterprises look on a page: the marker colour of each supervision category (also the
legend), shared by the enterprise map and the home page's chart."""

from __future__ import annotations

# Marker colours by supervision category (also the legend).
CATEGORY_COLOURS: dict[str, str] = {
    "coal_mine": "#1d273b",
    "non_coal_mine": "#a0522d",
    "hazardous_chemicals": "#d63939",
    "fireworks": "#f76707",
    "metallurgy_trade": "#206bc4",
    "other": "#2fb344",
}
