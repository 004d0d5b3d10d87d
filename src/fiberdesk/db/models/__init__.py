"""All tables; importing this package registers every model on ``Base.metadata``."""

from fiberdesk.db.base import Base
from fiberdesk.db.models.auth import (
    ApiToken,
    AuditEntry,
    ConsoleSession,
    IdempotencyRecord,
    User,
)
from fiberdesk.db.models.billing import (
    BillingAccount,
    EquipmentReturn,
    Invoice,
    LedgerEntry,
    Payment,
    ServiceHold,
)
from fiberdesk.db.models.catalog import ContractTermRow, Plan, PromotionRow
from fiberdesk.db.models.change_counters import ChangeCounter
from fiberdesk.db.models.communications import (
    DeliveryAttempt,
    FakeSms,
    KpiAlert,
    MessagePreference,
    Survey,
    WebhookEndpoint,
)
from fiberdesk.db.models.customers import Customer, CustomerNote
from fiberdesk.db.models.equipment import Equipment, IpAddress, IpPool
from fiberdesk.db.models.fakes import FakeGatewayCharge, FakeGatewayRefund, FakeGatewayToken
from fiberdesk.db.models.network import CentralOffice, Nap, NapPort, Olt, PonPort, Splitter
from fiberdesk.db.models.orders import Appointment, ServiceOrder
from fiberdesk.db.models.outbox import OutboxMessage
from fiberdesk.db.models.premises import Premises
from fiberdesk.db.models.quotes import Quote, WaitlistEntry
from fiberdesk.db.models.search import SearchWord
from fiberdesk.db.models.signup import (
    Contract,
    CreditCheck,
    IdentityVerification,
    OneTimeCode,
    PaymentMethod,
)
from fiberdesk.db.models.simulation import SimFault, SimOnt
from fiberdesk.db.models.support import (
    Alarm,
    MaintenanceWindow,
    Outage,
    OutageCustomer,
    TroubleshootingFlow,
    TroubleshootingSession,
    UsageDaily,
)
from fiberdesk.db.models.tickets import Ticket
from fiberdesk.db.models.workforce import Technician, TechnicianShift

__all__ = [
    "Alarm",
    "ApiToken",
    "Appointment",
    "AuditEntry",
    "Base",
    "BillingAccount",
    "CentralOffice",
    "ChangeCounter",
    "ConsoleSession",
    "Contract",
    "ContractTermRow",
    "CreditCheck",
    "Customer",
    "CustomerNote",
    "DeliveryAttempt",
    "Equipment",
    "EquipmentReturn",
    "FakeGatewayCharge",
    "FakeGatewayRefund",
    "FakeGatewayToken",
    "FakeSms",
    "IdempotencyRecord",
    "IdentityVerification",
    "Invoice",
    "IpAddress",
    "IpPool",
    "KpiAlert",
    "LedgerEntry",
    "MaintenanceWindow",
    "MessagePreference",
    "Nap",
    "NapPort",
    "Olt",
    "OneTimeCode",
    "Outage",
    "OutageCustomer",
    "OutboxMessage",
    "Payment",
    "PaymentMethod",
    "Plan",
    "PonPort",
    "Premises",
    "PromotionRow",
    "Quote",
    "SearchWord",
    "ServiceHold",
    "ServiceOrder",
    "SimFault",
    "SimOnt",
    "Splitter",
    "Survey",
    "Technician",
    "TechnicianShift",
    "Ticket",
    "TroubleshootingFlow",
    "TroubleshootingSession",
    "UsageDaily",
    "User",
    "WaitlistEntry",
    "WebhookEndpoint",
]
