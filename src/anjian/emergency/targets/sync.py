"""How protection targets cross nodes (DESIGN.md §2): they travel up, placed by their division,
so a province sees its counties' schools and hospitals inside a threat zone; the contact's
phone travels encrypted. Imported wherever the domain is wired (``anjian.models``)."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.emergency.targets.models import ProtectionTarget

TARGET_ENTITY = "emergency_protection_target"

register(
    SyncSpec(
        TARGET_ENTITY,
        ProtectionTarget,
        division_attr="division_code",
        encrypted=("contact_phone_enc",),
    )
)
