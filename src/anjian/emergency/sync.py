"""How emergency records cross nodes (DESIGN.md §2): resources, their supplies and transfers
travel up, placed by their division, so a province sees its counties' resources. Imported
wherever the domain is wired."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.emergency.models import EmergencyResource, EmergencySupply, EmergencyTransfer
from anjian.enterprises.sync import ENTERPRISE_ENTITY

RESOURCE_ENTITY = "emergency_resource"
SUPPLY_ENTITY = "emergency_supply"
TRANSFER_ENTITY = "emergency_transfer"

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
