"""How enforcement records cross nodes (DESIGN.md §2): plans, draws, their checks, inspections and
their findings travel up, placed by their division, so the agencies above see what was drawn,
who went, what they found, the documents issued and the penalties. Officers and their conflicts stay at the agency's node. Imported
wherever the domain is wired."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.enforcement.models import (
    Draw,
    DrawCheck,
    EnforcementDocument,
    Finding,
    Inspection,
    InspectionPlan,
    PenaltyCase,
)
from anjian.enterprises.sync import ENTERPRISE_ENTITY
from anjian.hidden_hazards.sync import HAZARD_ENTITY

DRAW_ENTITY = "enforcement_draw"
DRAW_CHECK_ENTITY = "enforcement_draw_check"
INSPECTION_ENTITY = "enforcement_inspection"
FINDING_ENTITY = "enforcement_finding"
DOCUMENT_ENTITY = "enforcement_document"
PENALTY_ENTITY = "enforcement_penalty"
PLAN_ENTITY = "enforcement_plan"

register(SyncSpec(DRAW_ENTITY, Draw, division_attr="division_code"))
register(
    SyncSpec(
        DRAW_CHECK_ENTITY,
        DrawCheck,
        division_attr="division_code",
        refs={"draw_id": DRAW_ENTITY, "enterprise_id": ENTERPRISE_ENTITY},
    )
)
register(
    SyncSpec(
        INSPECTION_ENTITY,
        Inspection,
        division_attr="division_code",
        refs={"enterprise_id": ENTERPRISE_ENTITY, "draw_check_id": DRAW_CHECK_ENTITY},
    )
)
register(
    SyncSpec(
        FINDING_ENTITY,
        Finding,
        division_attr="division_code",
        refs={
            "inspection_id": INSPECTION_ENTITY,
            "enterprise_id": ENTERPRISE_ENTITY,
            "hidden_hazard_id": HAZARD_ENTITY,
        },
    )
)
register(
    SyncSpec(
        PENALTY_ENTITY,
        PenaltyCase,
        division_attr="division_code",
        refs={"inspection_id": INSPECTION_ENTITY, "enterprise_id": ENTERPRISE_ENTITY},
    )
)
register(
    SyncSpec(
        DOCUMENT_ENTITY,
        EnforcementDocument,
        division_attr="division_code",
        refs={
            "inspection_id": INSPECTION_ENTITY,
            "penalty_id": PENALTY_ENTITY,
            "enterprise_id": ENTERPRISE_ENTITY,
        },
    )
)
register(SyncSpec(PLAN_ENTITY, InspectionPlan, division_attr="agency_division"))
