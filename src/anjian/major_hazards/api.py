"""Major hazard source API (重大危险源): the GB 18218-2018 identification and grading calculator.

The calculator saves nothing; it needs a logged-in user of any role."""

from __future__ import annotations

from fastapi import APIRouter

from anjian.core.iam.deps import Ctx
from anjian.major_hazards import rules
from anjian.major_hazards.schemas import AssessRequest, AssessResponse, UnitOut

router = APIRouter(prefix="/api/v1/major-hazards", tags=["major hazards 重大危险源"])


@router.post("/assess", response_model=AssessResponse)
def assess(body: AssessRequest, _ctx: Ctx) -> AssessResponse:
    """Identify (辨识, S = Σ q/Q ≥ 1) and grade (分级, R = α Σ β q/Q) each unit by GB 18218-2018.

    An unknown chemical without a Table 2 category, an ambiguous or inconsistent name/CAS
    number, or an unknown category is a 422 naming the field (``units.0.chemicals.1.name``).
    ``_ctx``: only the login is required."""
    results = rules.assess_units([unit.to_input() for unit in body.units])
    return AssessResponse(units=[UnitOut.of(unit) for unit in results])
