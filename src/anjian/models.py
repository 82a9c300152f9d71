"""Every table of the node, imported in one place for Alembic and test fixtures."""

from anjian.core.audit.models import AuditHead, AuditRecord
from anjian.core.divisions.models import Division
from anjian.core.iam.models import AuthSession, RecoveryCode, User
from anjian.core.orgs.models import Organisation
from anjian.core.sync.models import OutboxEntry, SyncLink
from anjian.directives.models import Directive, DirectiveReceipt
from anjian.enterprises.models import Enterprise

__all__ = [
    "AuditHead",
    "AuditRecord",
    "AuthSession",
    "Directive",
    "DirectiveReceipt",
    "Division",
    "Enterprise",
    "Organisation",
    "OutboxEntry",
    "RecoveryCode",
    "SyncLink",
    "User",
]
