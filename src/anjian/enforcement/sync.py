"""How enforcement records cross nodes (DESIGN.md §2): draws and their checks travel up, placed
by their division, so the agencies above see what was drawn and who went. Officers and their
conflicts stay at the agency's node. Imported wherever the domain is wired."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.enforcement.models import Draw, DrawCheck
from anjian.enterprises.sync import ENTERPRISE_ENTITY

DRAW_ENTITY = "enforcement_draw"
DRAW_CHECK_ENTITY = "enforcement_draw_check"

register(SyncSpec(DRAW_ENTITY, Draw, division_attr="division_code"))
register(
    SyncSpec(
        DRAW_CHECK_ENTITY,
        DrawCheck,
        division_attr="division_code",
        refs={"draw_id": DRAW_ENTITY, "enterprise_id": ENTERPRISE_ENTITY},
    )
)
