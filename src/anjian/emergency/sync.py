"""How emergency records cross nodes (DESIGN.md §2): resources, their supplies and transfers,
events with their timeline, tasks and dispatches travel up, placed by their division, so a
province sees its counties' resources and follows their events as they unfold. The lines of an
event name it by uid. Imported wherever the domain is wired."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.emergency.models import (
    EmergencyEvent,
    EmergencyResource,
    EmergencySupply,
    EmergencyTransfer,
    EventDispatch,
    EventEntry,
    EventTask,
)
from anjian.enterprises.sync import ENTERPRISE_ENTITY

RESOURCE_ENTITY = "emergency_resource"
SUPPLY_ENTITY = "emergency_supply"
TRANSFER_ENTITY = "emergency_transfer"
EVENT_ENTITY = "emergency_event"
ENTRY_ENTITY = "emergency_event_entry"
TASK_ENTITY = "emergency_event_task"
DISPATCH_ENTITY = "emergency_event_dispatch"

_ENT = {"enterprise_id": ENTERPRISE_ENTITY}
register(
    SyncSpec(
        RESOURCE_ENTITY,
        EmergencyResource,
        division_attr="division_code",
        refs=_ENT,
        encrypted=("contact_phone_enc",),
    )
)
register(
    SyncSpec(
        SUPPLY_ENTITY,
        EmergencySupply,
        division_attr="division_code",
        refs={**_ENT, "warehouse_id": RESOURCE_ENTITY},
    )
)
register(
    SyncSpec(
        TRANSFER_ENTITY,
        EmergencyTransfer,
        division_attr="division_code",
        refs={**_ENT, "from_warehouse_id": RESOURCE_ENTITY, "to_warehouse_id": RESOURCE_ENTITY},
    )
)
register(SyncSpec(EVENT_ENTITY, EmergencyEvent, division_attr="division_code", refs=_ENT))
for _entity, _model in (
    (ENTRY_ENTITY, EventEntry),
    (TASK_ENTITY, EventTask),
    (DISPATCH_ENTITY, EventDispatch),
):
    register(SyncSpec(_entity, _model, division_attr="division_code"))
