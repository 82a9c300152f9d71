"""How directives cross nodes (DESIGN.md §2): a directive travels down to the jurisdiction
it is addressed to; a receipt (签收) travels up to the issuer. Imported wherever the domain is
wired (its service, ``anjian.models``), so the registry is filled before the sync engine runs."""

from anjian.core.sync.registry import SyncSpec, register
from anjian.directives.models import Directive, DirectiveReceipt

DIRECTIVE_ENTITY = "directive"
RECEIPT_ENTITY = "directive_receipt"

register(SyncSpec(DIRECTIVE_ENTITY, Directive, division_attr="target_division", downward=True))
register(SyncSpec(RECEIPT_ENTITY, DirectiveReceipt, division_attr="division_code"))
