"""How enterprises cross nodes (DESIGN.md §2): up, placed by their division; the phones are
encrypted columns (each node encrypts with its own key). Imported wherever the domain is wired
(its service, ``anjian.models``), so the registry is filled before the sync engine runs."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.enterprises.models import Enterprise

ENTERPRISE_ENTITY = "enterprise"

register(
    SyncSpec(
        ENTERPRISE_ENTITY,
        Enterprise,
        division_attr="division_code",
        encrypted=("legal_rep_phone_enc", "safety_manager_phone_enc"),
    )
)
