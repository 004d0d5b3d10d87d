"""Every agent tool, by area; ``REGISTRY`` holds them in a stable order.

customers.py   find_customer, customer_context, run_diagnostics, add_note,
               billing_account
identity.py    send_identity_code, verify_identity
sales.py       check_availability, create_quote, create_order, get_order,
               credit_check, add_payment_method, accept_contract
scheduling.py  find_installation_windows, book_installation, reschedule_appointment,
               cancel_appointment, assign_equipment, activate_service
support.py     create_ticket, update_ticket, resolve_ticket, start_/answer_/pause_/
               resume_troubleshooting
changes.py     change_tier, relocate, suspend_service, resume_service,
               disconnect_service
comms.py       send_message, key_metrics, outages_in_area
"""

from __future__ import annotations

from fiberdesk.agent.registry import Registry
from fiberdesk.agent.tools import (
    changes,
    comms,
    customers,
    identity,
    sales,
    scheduling,
    support,
)

REGISTRY = Registry(
    [
        *customers.TOOLS,
        *identity.TOOLS,
        *sales.TOOLS,
        *scheduling.TOOLS,
        *support.TOOLS,
        *changes.TOOLS,
        *comms.TOOLS,
    ]
)

__all__ = ["REGISTRY"]
