"""Outages: alarms correlated into outages (``domain.correlation``), their life (detected,
confirmed, resolved), the customers in them and what those customers are told.

``correlate`` looks at recent matched, unsuppressed alarms not yet in an outage: those on an
element with an open outage of their kind join it; the rest go through the correlation
rules, and each finding opens one outage that lists its customers, takes over their open
tickets and queues their outage notification (once per outage and customer, however often
it runs). When every alarm of an open outage has cleared, the outage is resolved and the
customers get a restoration notice; an outage whose alarms had all cleared before it was
seen is recorded as resolved and nobody is told.

    settings.py     OutageSettings, settings_from, parse_eta_hours
    correlation.py  correlate, receive, poll: alarms into outages, their customers, tickets
    notices.py      queue_all, the outage notification's and restoration notice's contexts
    lifecycle.py    confirm, resolve_outage, list_outages, outage_detail; scope_label,
                    element_counts

Planned maintenance windows are in ``services.maintenance``; their names are still found
here (``outages.create_maintenance``), loaded when first asked for, since that module
builds on this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fiberdesk.services.outages.correlation import (
    CorrelationResult,
    PollResult,
    correlate,
    poll,
    receive,
)
from fiberdesk.services.outages.lifecycle import (
    OPEN,
    AffectedCustomer,
    OutageDetail,
    OutageView,
    confirm,
    element_counts,
    list_outages,
    outage_detail,
    resolve_outage,
    scope_label,
)
from fiberdesk.services.outages.notices import human_time, queue_all
from fiberdesk.services.outages.settings import (
    DEFAULT_ETA_HOURS,
    DEFAULT_SETTINGS,
    OutageSettings,
    parse_eta_hours,
    settings_from,
)

if TYPE_CHECKING:
    from fiberdesk.services.maintenance import (
        MaintenanceView,
        create_maintenance,
        customers_under,
        list_maintenance,
    )
else:
    _MAINTENANCE = frozenset(
        {"MaintenanceView", "create_maintenance", "customers_under", "list_maintenance"}
    )

    def __getattr__(name: str) -> object:
        # imported on first use: services.maintenance imports this package
        if name in _MAINTENANCE:
            from fiberdesk.services import maintenance

            return getattr(maintenance, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_ETA_HOURS",
    "DEFAULT_SETTINGS",
    "OPEN",
    "AffectedCustomer",
    "CorrelationResult",
    "MaintenanceView",
    "OutageDetail",
    "OutageSettings",
    "OutageView",
    "PollResult",
    "confirm",
    "correlate",
    "create_maintenance",
    "customers_under",
    "element_counts",
    "human_time",
    "list_maintenance",
    "list_outages",
    "outage_detail",
    "parse_eta_hours",
    "poll",
    "queue_all",
    "receive",
    "resolve_outage",
    "scope_label",
    "settings_from",
]
