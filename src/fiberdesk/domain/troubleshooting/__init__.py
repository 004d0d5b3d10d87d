"""Guided troubleshooting: flows as data, the automatic checks, and the engine's step.

flow.py     the definition (questions, checks, advice, outcomes) and its validation
checks.py   the automatic checks: names, values and the rule deciding each
engine.py   ``walk``: where a session stands given its checks and answers
"""

from __future__ import annotations

from fiberdesk.domain.troubleshooting.checks import (
    CHECKS,
    CheckResult,
    CheckSpec,
    Observations,
    evaluate,
)
from fiberdesk.domain.troubleshooting.engine import (
    Answer,
    Position,
    Step,
    check_answer,
    implied_answer,
    render,
    walk,
)
from fiberdesk.domain.troubleshooting.flow import (
    Advice,
    Check,
    Flow,
    Node,
    Option,
    Outcome,
    OutcomeKind,
    Question,
    parse_flow,
)

__all__ = [
    "CHECKS",
    "Advice",
    "Answer",
    "Check",
    "CheckResult",
    "CheckSpec",
    "Flow",
    "Node",
    "Observations",
    "Option",
    "Outcome",
    "OutcomeKind",
    "Position",
    "Question",
    "Step",
    "check_answer",
    "evaluate",
    "implied_answer",
    "parse_flow",
    "render",
    "walk",
]
