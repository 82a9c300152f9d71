"""Every table of the node and every synced entity, imported in one place for the app, the
CLI, Alembic and test fixtures. A domain registers its synced entities in its ``sync`` module
(its ``register(SyncSpec(...))`` calls and ``on_applied`` hooks), listed in ``SYNC_MODULES`` so
that the registry is filled wherever the sync engine may run."""

from importlib import import_module

from anjian.accidents.models import Accident, AccidentStep, Investigation
from anjian.core.audit.models import AuditHead, AuditRecord, AuditSeal
from anjian.core.counters import Counter
from anjian.core.divisions.models import Division
from anjian.core.iam.models import AuthSession, RecoveryCode, User
from anjian.core.node_settings.models import NodeSetting
from anjian.core.orgs.models import Organisation
from anjian.core.sync.models import OutboxEntry, SyncLink
from anjian.directives.models import Directive, DirectiveReceipt
from anjian.emergency.models import (
    EmergencyEvent,
    EmergencyResource,
    EmergencySupply,
    EmergencyTransfer,
    EventDispatch,
    EventEntry,
    EventTask,
)
from anjian.enforcement.models import (
    Draw,
    DrawCheck,
    EnforcementDocument,
    Finding,
    Inspection,
    InspectionPlan,
    Inspector,
    InspectorConflict,
    PenaltyCase,
    Terminal,
    TerminalReceipt,
)
from anjian.enterprises.models import Enterprise
from anjian.hidden_hazards.models import Checklist, HazardStep, HiddenHazard, InspectionTask
from anjian.major_hazards.models import MajorHazardSource
from anjian.monitoring.models import (
    Alarm,
    GatewayCredential,
    IngestEpoch,
    IngestRejection,
    MinuteSummary,
    MonitoringPoint,
    PointLive,
    Reading,
    ReadingsRequest,
    ReadingsResponse,
)
from anjian.ops.desk.models import RoutingRule, Ticket, TicketStep
from anjian.ops.models import BackupRun, NodeHealth
from anjian.risk.models import RiskPoint

# The domains' synced entities register themselves with anjian.core.sync.registry when their
# sync module is imported.
SYNC_MODULES = (
    "anjian.enterprises.sync",
    "anjian.hidden_hazards.sync",
    "anjian.risk.sync",
    "anjian.major_hazards.sync",
    "anjian.monitoring.sync",
    "anjian.directives.sync",
    "anjian.accidents.sync",
    "anjian.enforcement.sync",
    "anjian.emergency.sync",
    "anjian.emergency.plans.sync",
    "anjian.emergency.duty.sync",
    "anjian.emergency.targets.sync",
    "anjian.ops.sync",
)
for _module in SYNC_MODULES:
    import_module(_module)

__all__ = [
    "Accident",
    "AccidentStep",
    "Alarm",
    "AuditHead",
    "AuditRecord",
    "AuditSeal",
    "AuthSession",
    "BackupRun",
    "Checklist",
    "Counter",
    "Directive",
    "DirectiveReceipt",
    "Division",
    "Draw",
    "DrawCheck",
    "EmergencyEvent",
    "EmergencyResource",
    "EmergencySupply",
    "EmergencyTransfer",
    "EnforcementDocument",
    "Enterprise",
    "EventDispatch",
    "EventEntry",
    "EventTask",
    "Finding",
    "GatewayCredential",
    "HazardStep",
    "HiddenHazard",
    "IngestEpoch",
    "IngestRejection",
    "Inspection",
    "InspectionPlan",
    "InspectionTask",
    "Inspector",
    "InspectorConflict",
    "Investigation",
    "MajorHazardSource",
    "MinuteSummary",
    "MonitoringPoint",
    "NodeHealth",
    "NodeSetting",
    "Organisation",
    "OutboxEntry",
    "PenaltyCase",
    "PointLive",
    "Reading",
    "ReadingsRequest",
    "ReadingsResponse",
    "RecoveryCode",
    "RiskPoint",
    "RoutingRule",
    "SyncLink",
    "Terminal",
    "TerminalReceipt",
    "Ticket",
    "TicketStep",
    "User",
]
