"""Staff roles and what each may do."""

from __future__ import annotations

from dataclasses import dataclass

from fiberdesk.domain.errors import Forbidden
from fiberdesk.domain.status import LabelledStatus


class Role(LabelledStatus):
    ADMIN = ("admin", "Administrator", "red", "Everything, including users and tokens")
    SUPERVISOR = ("supervisor", "Supervisor", "purple", "Queues, KPIs, reports, overrides")
    CSR = ("csr", "Customer service rep", "blue", "Qualify, sign up, troubleshoot, tickets")
    DISPATCHER = ("dispatcher", "Dispatcher", "amber", "Appointments and calendars")
    TECHNICIAN = ("technician", "Field technician", "green", "Own work orders")
    NOC = ("noc", "NOC engineer", "orange", "Alarms, outages, diagnostics")
    BILLING = ("billing", "Billing clerk", "slate", "Invoices, payments, suspensions")
    #: the anonymous self-service pages; never a user's role
    SELF_SERVICE = ("self_service", "Self-service", "grey", "Public pages, no login")


class Permission(LabelledStatus):
    CUSTOMERS_READ = ("customers:read", "Read customers")
    CUSTOMERS_WRITE = ("customers:write", "Change customers")
    NETWORK_READ = ("network:read", "Read network inventory")
    NETWORK_WRITE = ("network:write", "Change network inventory")
    ORDERS_WRITE = ("orders:write", "Enter and change orders")
    DISPATCH = ("dispatch", "Schedule technicians")
    FIELD_WORK = ("field:work", "Carry out work orders")
    TICKETS_WRITE = ("tickets:write", "Work tickets")
    BILLING_READ = ("billing:read", "Read billing")
    BILLING_WRITE = ("billing:write", "Take payments, adjust, suspend")
    REPORTS_READ = ("reports:read", "Read KPIs and reports")
    ADMIN = ("admin", "Administer users, tokens, plans")


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPERVISOR: frozenset(Permission) - {P.ADMIN},
    Role.CSR: frozenset(
        {
            P.CUSTOMERS_READ,
            P.CUSTOMERS_WRITE,
            P.NETWORK_READ,
            P.ORDERS_WRITE,
            P.DISPATCH,
            P.TICKETS_WRITE,
            P.BILLING_READ,
        }
    ),
    Role.DISPATCHER: frozenset({P.CUSTOMERS_READ, P.NETWORK_READ, P.DISPATCH}),
    Role.TECHNICIAN: frozenset({P.CUSTOMERS_READ, P.NETWORK_READ, P.FIELD_WORK}),
    Role.NOC: frozenset(
        {P.CUSTOMERS_READ, P.NETWORK_READ, P.NETWORK_WRITE, P.TICKETS_WRITE, P.REPORTS_READ}
    ),
    Role.BILLING: frozenset({P.CUSTOMERS_READ, P.BILLING_READ, P.BILLING_WRITE}),
    # the public sign-up pages enter an order and book its installation window; each of
    # their forms is bound to its own order by a signed token (web/ui/selfservice.py)
    Role.SELF_SERVICE: frozenset({P.ORDERS_WRITE, P.DISPATCH}),
}

STAFF_ROLES = tuple(r for r in Role if r is not Role.SELF_SERVICE)


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


class Channel(LabelledStatus):
    """Where an action came from, recorded on each audit row."""

    API = ("api", "REST API")
    CONSOLE = ("console", "Web console")
    CLI = ("cli", "Command line")
    AGENT = ("agent", "Agent tools (MCP)")
    PUBLIC = ("public", "Self-service pages")
    WORKER = ("worker", "Background worker")
    SYSTEM = ("system", "System")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a user (through a token, a session or the CLI) or the system."""

    name: str
    role: Role
    channel: Channel
    user_id: int | None = None
    token_id: int | None = None

    def can(self, permission: Permission) -> bool:
        return has_permission(self.role, permission)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(
                f"the {self.role.label.lower()} role may not {permission.label.lower()}"
            )


SYSTEM_ACTOR = Actor(name="system", role=Role.ADMIN, channel=Channel.SYSTEM)
PUBLIC_ACTOR = Actor(name="public", role=Role.SELF_SERVICE, channel=Channel.PUBLIC)
