"""The console's areas: who may open each, and the navigation built from them.

One table decides both what a role sees in the menu and what it may open: a page guarded
by an area answers 403 to every role not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from fiberdesk.domain.users import Role

R = Role


@dataclass(frozen=True, slots=True)
class Area:
    key: str
    label: str
    url: str
    roles: frozenset[Role]
    #: shown in the menu (some areas are reached from other pages only)
    in_menu: bool = True


def _area(key: str, label: str, url: str, *roles: Role, in_menu: bool = True) -> Area:
    return Area(key, label, url, frozenset({R.ADMIN, R.SUPERVISOR, *roles}), in_menu)


AREAS: dict[str, Area] = {
    a.key: a
    for a in (
        _area(
            "customers", "Customers", "/console/customers", R.CSR, R.DISPATCHER, R.NOC, R.BILLING
        ),
        _area("signup", "Sign up", "/console/signup", R.CSR),
        _area("tickets", "Tickets", "/console/tickets", R.CSR, R.NOC),
        _area("troubleshoot", "Troubleshoot", "/console/troubleshoot", R.CSR, R.NOC, in_menu=False),
        _area("outages", "Outages", "/console/outages", R.CSR, R.NOC),
        _area("network", "Network", "/console/network", R.NOC),
        _area("dispatch", "Dispatch", "/console/dispatch", R.CSR, R.DISPATCHER),
        _area("changes", "Service changes", "/console/changes", R.CSR, R.BILLING, in_menu=False),
        _area("billing", "Billing", "/console/billing", R.BILLING, R.CSR),
        _area("field", "My work orders", "/console/field", R.TECHNICIAN),
        _area("kpis", "KPIs", "/console/kpis", R.NOC),
        _area("admin", "Admin", "/console/admin"),
    )
}

#: where each role lands after signing in
HOME: dict[Role, str] = {
    R.ADMIN: "/console",
    R.SUPERVISOR: "/console",
    R.CSR: "/console",
    R.DISPATCHER: "/console/dispatch",
    R.TECHNICIAN: "/console/field",
    R.NOC: "/console/outages",
    R.BILLING: "/console/billing",
}


def may_open(role: Role, area: str) -> bool:
    return role in AREAS[area].roles


def menu(role: Role) -> list[Area]:
    return [a for a in AREAS.values() if a.in_menu and role in a.roles]
