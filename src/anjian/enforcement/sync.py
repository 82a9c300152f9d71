"""How enforcement records cross nodes (DESIGN.md §2): plans, draws and their checks,
inspections and their findings, documents and penalty cases travel up, placed by their
division, so the agencies above see what was planned, drawn, found, issued and decided.
Officers, their conflicts and terminals stay at the agency's node. Imported wherever the domain
is wired."""

from sqlalchemy.orm import Session

from anjian.core.sync.models import SyncMixin
from anjian.core.sync.outbox import record_change
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

# Each synced record with the references it carries (local id → the entity it names); all are
# placed by their division_code, a plan by its agency's division.
_ENT = {"enterprise_id": ENTERPRISE_ENTITY}
_SYNCED = (
    (DRAW_ENTITY, Draw, {}),
    (DRAW_CHECK_ENTITY, DrawCheck, {**_ENT, "draw_id": DRAW_ENTITY}),
    (INSPECTION_ENTITY, Inspection, {**_ENT, "draw_check_id": DRAW_CHECK_ENTITY}),
    (
        FINDING_ENTITY,
        Finding,
        {**_ENT, "inspection_id": INSPECTION_ENTITY, "hidden_hazard_id": HAZARD_ENTITY},
    ),
    (PENALTY_ENTITY, PenaltyCase, {**_ENT, "inspection_id": INSPECTION_ENTITY}),
    (
        DOCUMENT_ENTITY,
        EnforcementDocument,
        {**_ENT, "inspection_id": INSPECTION_ENTITY, "penalty_id": PENALTY_ENTITY},
    ),
)
for _entity, _model, _refs in _SYNCED:
    register(SyncSpec(_entity, _model, division_attr="division_code", refs=_refs))
register(SyncSpec(PLAN_ENTITY, InspectionPlan, division_attr="agency_division"))


def add_synced(session: Session, record: SyncMixin, *, entity: str) -> None:
    """Add a new synced record, flush it for its id and queue its change to travel up."""
    session.add(record)
    session.flush()
    record_change(session, record, entity=entity)
