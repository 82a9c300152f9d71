"""Pure rules of the random draw (双随机一公开): which enterprises are inspected and by whom.

A draw must be reproducible by anybody who holds the seed and the population, so it uses no
process-wide random state: every enterprise's lot is the SM3 digest of the seed and its id, and
every inspector's tie-break the digest of the seed, the enterprise and the inspector. The same
seed over the same population therefore gives the same draw on any machine and Python version.

- Uniform: the ``count`` enterprises with the smallest lots. The lots are independent and
  uniform, so every subset of that size is equally likely.
- By risk: weighted sampling without replacement (Efraimidis–Spirakis: key = ln(u) / w, the largest
  keys win), with the weights of :data:`RISK_WEIGHTS` — a choice of this platform, not of a
  regulation; agencies may pass their own.

Inspectors: at least two per check (Administrative Penalty Law Art. 42: 执法人员不得少于两人),
never one who declared a conflict of interest with the enterprise, and of the rest those who
inspected it least often before, then those with the fewest checks in this draw."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from anjian.core.crypto import sm3
from anjian.core.errors import Invalid

MIN_INSPECTORS = 2
# An enterprise is known to a draw by a key that is the same on every node (its uid), so a draw
# made at a county can be recomputed at the province; plain ints serve in tests.
Key = str | int
_UNIT = 2.0**-53  # lots are 53-bit fractions: exact in a double


class Weighting(StrEnum):
    """How enterprises are weighted in a draw."""

    UNIFORM = "uniform"
    RISK = "risk"


# Relative chance of being drawn by risk class (the enterprise's worst risk level, a major
# hazard source counting as 重大). Configurable per draw; the defaults are this platform's.
RISK_WEIGHTS: dict[str, float] = {"major": 4.0, "significant": 3.0, "general": 2.0, "low": 1.0}
UNGRADED_WEIGHT = 1.0


@dataclass(frozen=True)
class Candidate:
    """An enterprise that may be drawn, with its risk class (None when not graded)."""

    id: Key
    risk: str | None = None


@dataclass(frozen=True)
class Inspector:
    """An enforcement officer (执法人员) and the enterprises they declared a conflict with."""

    id: int
    conflicts: frozenset[Key] = field(default_factory=frozenset)


@dataclass(frozen=True)
class DrawnCheck:
    """One drawn enterprise and the inspectors assigned to it."""

    enterprise_id: Key
    inspector_ids: tuple[int, ...]


def population_hash(candidates: Iterable[Candidate], inspectors: Iterable[Inspector]) -> str:
    """SM3 over the canonical form of what a draw was taken from: enterprises with their risk
    classes and inspectors with their conflicts, each sorted, so order of input does not matter."""
    lines = sorted(f"e:{c.id}:{c.risk or ''}" for c in candidates)
    lines += sorted(f"i:{i.id}:{','.join(sorted(map(str, i.conflicts)))}" for i in inspectors)
    return sm3("\n".join(lines).encode())


def lot(seed: str, *parts: Key) -> float:
    """A uniform number in (0, 1) determined by the seed and the parts (an enterprise id, or an
    enterprise and an inspector id)."""
    digest = sm3("|".join([seed, *map(str, parts)]).encode())
    return ((int(digest[:14], 16) >> 3) + 0.5) * _UNIT


def weight_of(candidate: Candidate, weights: Mapping[str, float]) -> float:
    """The candidate's weight in a risk-weighted draw."""
    return weights.get(candidate.risk or "", UNGRADED_WEIGHT)


def draw_enterprises(
    candidates: Sequence[Candidate],
    count: int,
    seed: str,
    weighting: Weighting = Weighting.UNIFORM,
    weights: Mapping[str, float] = RISK_WEIGHTS,
) -> list[Key]:
    """The ids of the ``count`` enterprises drawn, in draw order (best lot first)."""
    if count < 1:
        raise Invalid(
            "抽取数量至少为 1 / enterprise_count must be at least 1", field="enterprise_count"
        )
    if count > len(candidates):
        raise Invalid(
            f"抽取数量 {count} 超过范围内的企业数 {len(candidates)} / "
            f"enterprise_count exceeds the {len(candidates)} enterprises in scope",
            field="enterprise_count",
        )
    if weighting is Weighting.UNIFORM:
        keys = {c.id: -lot(seed, c.id) for c in candidates}
    else:
        for name, value in weights.items():
            if not (value > 0 and math.isfinite(value)):
                raise Invalid(f"权重必须为正数：{name} / weights must be positive", field="weights")
        keys = {c.id: math.log(lot(seed, c.id)) / weight_of(c, weights) for c in candidates}
    ranked = sorted(keys, key=lambda cid: (-keys[cid], str(cid)))
    return ranked[:count]


def assign_inspectors(
    enterprise_ids: Sequence[Key],
    inspectors: Sequence[Inspector],
    per_check: int,
    seed: str,
    past_pairs: Mapping[tuple[int, Key], int] | None = None,
) -> list[DrawnCheck]:
    """Assign ``per_check`` inspectors to each enterprise, in order. ``past_pairs`` counts earlier
    checks of each (inspector id, enterprise id) pair, so a pair repeats as rarely as it can."""
    if per_check < MIN_INSPECTORS:
        raise Invalid(
            f"每次检查至少 {MIN_INSPECTORS} 名执法人员 / at least {MIN_INSPECTORS} inspectors per check",
            field="inspectors_per_check",
        )
    past = past_pairs or {}
    load: Counter[int] = Counter()
    checks = []
    for enterprise_id in enterprise_ids:
        eligible = [i for i in inspectors if enterprise_id not in i.conflicts]
        if len(eligible) < per_check:
            raise Invalid(
                f"企业 {enterprise_id} 可选执法人员只有 {len(eligible)} 名（已排除利害关系回避），"
                f"不足 {per_check} 名 / not enough inspectors without a conflict",
                field="inspectors_per_check",
            )
        eligible.sort(
            key=lambda i: (
                past.get((i.id, enterprise_id), 0),
                load[i.id],
                lot(seed, enterprise_id, i.id),
            )
        )
        team = tuple(sorted(i.id for i in eligible[:per_check]))
        load.update(team)
        checks.append(DrawnCheck(enterprise_id, team))
    return checks
