"""Risk-grading API (风险分级): a calculator that saves nothing, and the value tables."""

from __future__ import annotations

from fastapi import APIRouter

from anjian.config import get_settings
from anjian.core.errors import Invalid
from anjian.core.iam.deps import Ctx
from anjian.risk.rules import assess_lec, assess_ls
from anjian.risk.schemas import AssessRequest, AssessResult, RiskTables

router = APIRouter(prefix="/api/v1/risk", tags=["risk 风险分级"])

# The factors each method uses, in the order they are reported missing.
_FACTORS = {"LEC": ("L", "E", "C"), "LS": ("L", "S")}


def _factors(body: AssessRequest) -> list[float]:
    """The method's factors, refusing a missing one or one the method does not use."""
    used = _FACTORS[body.method]
    for name in used:
        if getattr(body, name) is None:
            raise Invalid(
                f"{body.method} 法须填写 {name} ({name} is required for {body.method})",
                field=name,
            )
    for name in ("L", "E", "C", "S"):
        if name not in used and getattr(body, name) is not None:
            raise Invalid(
                f"{body.method} 法不使用 {name} ({name} is not used by {body.method})",
                field=name,
            )
    return [getattr(body, name) for name in used]


@router.post("/assess", response_model=AssessResult, response_model_exclude_none=True)
def assess(body: AssessRequest, ctx: Ctx) -> AssessResult:
    """Grade one activity or hazard by LEC (D = L × E × C) or LS (R = L × S) under the node's
    configured convention; nothing is saved."""
    settings = get_settings()
    if body.method == "LEC":
        L, E, C = _factors(body)
        return AssessResult.of(assess_lec(L, E, C, settings.risk_lec_convention))
    L, S = _factors(body)
    return AssessResult.of(assess_ls(L, S, settings.risk_ls_convention))


@router.get("/tables", response_model=RiskTables)
def tables(ctx: Ctx) -> RiskTables:
    """The four levels, the LEC and LS value tables with their meanings, and the thresholds of
    the node's configured conventions (for forms and tools)."""
    settings = get_settings()
    return RiskTables.build(settings.risk_lec_convention, settings.risk_ls_convention)
