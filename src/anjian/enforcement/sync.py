"""How enforcement records cross nodes (DESIGN.md §2): plans, draws and their checks,
inspections and their findings, documents and penalty cases travel up, placed by their
division, so the agencies above see what was planned, drawn, found, issued and decided.

What an agency above does about a lower division's enterprise (its inspections, their findings,
its documents and penalty cases) also goes down to the node whose area holds the enterprise
(``also_down``): a provincial inspection of a county mine is seen by the county. Plans are
placed by the agency's own division and draws by the division drawn over (the agency's
jurisdiction, with the whole population drawn from): neither concerns one child, so neither
goes down, nor do a draw's checks (a check cannot be held without its draw); at the child an
inspection made from a drawn check keeps the check's uid in ``source_ref``, its reference
to the check stays empty. Officers, their conflicts and terminals stay at the agency's node.
Imported wherever the domain is wired."""

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

# Each synced record with the references it carries (local id → the entity it names) and
# whether it also goes down; all are placed by their division_code, a plan by its agency's
# division. A reference the child cannot resolve (the hidden hazard a finding became at the
# province, the drawn check of an inspection) is left empty there.
_ENT = {"enterprise_id": ENTERPRISE_ENTITY}
_SYNCED = (
    (DRAW_ENTITY, Draw, {}, False),
    (DRAW_CHECK_ENTITY, DrawCheck, {**_ENT, "draw_id": DRAW_ENTITY}, False),
    (INSPECTION_ENTITY, Inspection, {**_ENT, "draw_check_id": DRAW_CHECK_ENTITY}, True),
    (
        FINDING_ENTITY,
        Finding,
        {**_ENT, "inspection_id": INSPECTION_ENTITY, "hidden_hazard_id": HAZARD_ENTITY},
        True,
    ),
    (PENALTY_ENTITY, PenaltyCase, {**_ENT, "inspection_id": INSPECTION_ENTITY}, True),
    (
        DOCUMENT_ENTITY,
        EnforcementDocument,
        {**_ENT, "inspection_id": INSPECTION_ENTITY, "penalty_id": PENALTY_ENTITY},
        True,
    ),
)
for _entity, _model, _refs, _down in _SYNCED:
    register(SyncSpec(_entity, _model, division_attr="division_code", refs=_refs, also_down=_down))
register(SyncSpec(PLAN_ENTITY, InspectionPlan, division_attr="agency_division"))


def add_synced(session: Session, record: SyncMixin, *, entity: str) -> None:
    """Add a new synced record, flush it for its id and queue its change to travel up."""
    session.add(record)
    session.flush()
    record_change(session, record, entity=entity)
