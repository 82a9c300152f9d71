"""The colours grades are marked with on maps and in legends: 红橙黄蓝, worst first (Tabler's
red, orange, yellow and blue) — the four risk levels, the grades of major hazard sources and
of accidents, the response levels of emergencies, the two alarm levels (red, orange) — and the
grey of what has no grade. The badges with text on them use darker tones of the same
(console.css ``.badge.grade-N``, for contrast)."""

from __future__ import annotations

FOUR_COLOURS: tuple[str, str, str, str] = ("#d63939", "#f76707", "#f59f00", "#206bc4")
UNGRADED = "#9aa0ac"


def by_grade(grades: int = 4) -> dict[str, str]:
    """Grade ``"1"`` (the worst) … ``str(grades)`` with its colour, as a layer's colours."""
    return {str(g): FOUR_COLOURS[g - 1] for g in range(1, grades + 1)}
