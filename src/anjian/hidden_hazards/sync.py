"""How hidden hazards cross nodes (DESIGN.md §2): hazards and the steps of their closed loop
travel up, placed by their division (checklists and tasks stay at the enterprise's node). A
hazard an agency above records about a lower division's enterprise (a provincial inspection's
finding turned into a hazard) also goes down to the node whose area holds the enterprise
(``also_down``): the county sees it, read-only, with its steps as the agency above takes them.
Imported wherever the domain is wired (its service, ``anjian.models``), so the registry is
filled before the sync engine runs."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.enterprises.sync import ENTERPRISE_ENTITY
from anjian.hidden_hazards.models import HazardStep, HiddenHazard

HAZARD_ENTITY = "hidden_hazard"
HAZARD_STEP_ENTITY = "hazard_step"

register(
    SyncSpec(
        HAZARD_ENTITY,
        HiddenHazard,
        division_attr="division_code",
        refs={"enterprise_id": ENTERPRISE_ENTITY},
        also_down=True,
    )
)
register(SyncSpec(HAZARD_STEP_ENTITY, HazardStep, division_attr="division_code", also_down=True))
