"""How plans and drills cross nodes (DESIGN.md §2): up, placed by their division, so an agency
above sees its units' plans, their filing and drills. A drill names its plan by uid."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.emergency.plans.models import EmergencyDrill, EmergencyPlan
from anjian.enterprises.sync import ENTERPRISE_ENTITY

PLAN_ENTITY = "emergency_plan"
DRILL_ENTITY = "emergency_drill"

_ENT = {"enterprise_id": ENTERPRISE_ENTITY}
register(SyncSpec(PLAN_ENTITY, EmergencyPlan, division_attr="division_code", refs=_ENT))
register(SyncSpec(DRILL_ENTITY, EmergencyDrill, division_attr="division_code", refs=_ENT))
