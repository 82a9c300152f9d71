"""Accident reporting API (事故报送): the grade calculator; reports and investigations follow."""

from __future__ import annotations

from fastapi import APIRouter

from anjian.accidents.rules import classify as grade_of
from anjian.accidents.schemas import ClassifyRequest, ClassifyResult
from anjian.config import get_settings
from anjian.core.iam.deps import Ctx

router = APIRouter(prefix="/api/v1/accidents", tags=["accidents 事故"])


@router.post("/classify", response_model=ClassifyResult)
def classify(body: ClassifyRequest, ctx: Ctx) -> ClassifyResult:
    """Grade an accident by Order No. 493 Art. 3 without saving: the highest grade reached by
    deaths, serious injuries (incl. acute industrial poisoning) or direct economic loss, with
    missing persons counted as deaths for the provisional grade (ANJIAN_ACCIDENT_MISSING_AS_DEATHS)."""
    return ClassifyResult.of(
        grade_of(
            body.deaths,
            body.missing,
            body.serious_injuries,
            body.direct_loss_cny,
            missing_as_deaths=get_settings().accident_missing_as_deaths,
        )
    )
