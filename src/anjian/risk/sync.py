"""How risk points cross nodes (DESIGN.md §2): up, placed by their division, referring to
their enterprise. Imported wherever the domain is wired (its service, ``anjian.models``), so
the registry is filled before the sync engine runs."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.enterprises.sync import ENTERPRISE_ENTITY
from anjian.risk.levels import levels_on_arrival
from anjian.risk.models import RiskPoint

RISK_POINT_ENTITY = "risk_point"

register(
    SyncSpec(
        RISK_POINT_ENTITY,
        RiskPoint,
        division_attr="division_code",
        refs={"enterprise_id": ENTERPRISE_ENTITY},
        on_applied=levels_on_arrival,  # the enterprises' worst level, derived here
    )
)
