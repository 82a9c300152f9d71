"""Every table of the node, imported in one place for Alembic and test fixtures."""

from anjian.core.audit.models import AuditHead, AuditRecord
from anjian.core.divisions.models import Division
from anjian.core.iam.models import AuthSession, RecoveryCode, User
from anjian.core.orgs.models import Organisation
from anjian.core.sync.models import OutboxEntry
from anjian.enterprises.models import Enterprise

__all__ = [
    "AuditHead",
    "AuditRecord",
    "AuthSession",
    "Division",
    "Enterprise",
    "Organisation",
    "OutboxEntry",
    "RecoveryCode",
    "User",
]
