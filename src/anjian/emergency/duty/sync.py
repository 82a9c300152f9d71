"""How duty records cross nodes (DESIGN.md §2): shifts, receipts and handovers travel up,
placed by the agency's division, so an agency above sees who is on duty below, what each desk
received and when it passed it on. A receipt names its event by uid (the event syncs on its
own). Imported wherever the domain is wired (``anjian.models``)."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.emergency.duty.models import DutyHandover, DutyReceipt, DutyShift

SHIFT_ENTITY = "emergency_duty_shift"
RECEIPT_ENTITY = "emergency_duty_receipt"
HANDOVER_ENTITY = "emergency_duty_handover"

for _entity, _model in (
    (SHIFT_ENTITY, DutyShift),
    (RECEIPT_ENTITY, DutyReceipt),
    (HANDOVER_ENTITY, DutyHandover),
):
    register(SyncSpec(_entity, _model, division_attr="division_code"))
