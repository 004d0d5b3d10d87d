"""Guided troubleshooting: sessions that walk a flow for a ticket, and their outcomes.

    sessions.py   start, answer, pause, resume, get: the use cases and the session's view
    readings.py   taking a flow's automatic checks (diagnostics, account, area)
    outcomes.py   resolve, escalate to the NOC, repair visit (booked), OTDR test

Flows themselves (the stored definitions and their versions) are in ``services.flows``.
"""

from __future__ import annotations

from fiberdesk.services.flows import (
    FlowView,
    ensure_default_flows,
    get_flow,
    list_flows,
    save_flow,
)
from fiberdesk.services.troubleshooting.sessions import (
    answer,
    get_session,
    pause,
    resume,
    start_session,
)
from fiberdesk.services.troubleshooting.state import SessionView

__all__ = [
    "FlowView",
    "SessionView",
    "answer",
    "ensure_default_flows",
    "get_flow",
    "get_session",
    "list_flows",
    "pause",
    "resume",
    "save_flow",
    "start_session",
]
