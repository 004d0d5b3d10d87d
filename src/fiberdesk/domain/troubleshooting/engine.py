"""The engine's pure step: where a session stands, given its flow, checks and answers.

A session stores only its inputs: the check results taken when it started, and the
answers given in order, each with the check values that changed when it was given.
``walk`` replays them from the start node: a check follows the branch of its value, an
advice is passed (and shown), a question takes the next answer, or is skipped when a
check already answers it, and the walk stops at the first question still open or at an
outcome. The same inputs always give the same path, so nothing else needs storing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.troubleshooting.checks import CHECKS
from fiberdesk.domain.troubleshooting.flow import Advice, Check, Flow, Option, Outcome, Question


@dataclass(frozen=True, slots=True)
class Answer:
    node: str
    option: str
    #: check values re-read right after this answer; they apply from here on
    refreshed: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happened on the walk."""

    node: str
    #: check, advice, skip (a question answered by a check), answer, ask, outcome
    kind: str
    value: str | None = None
    next: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Position:
    #: the question waiting for the customer, or the outcome reached
    node: str
    finished: bool
    steps: tuple[Step, ...]
    #: indexes of the answers that were applied, in order
    used: tuple[int, ...]
    #: answers that did not fit the path (none unless the inputs were tampered with)
    unused: tuple[int, ...]
    #: check values in force at the current node
    checks: Mapping[str, str]

    @property
    def skipped(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == "skip")

    def guidance(self) -> list[str]:
        """Advice nodes passed since the last answer: what to read out before the question."""
        out: list[str] = []
        for step in self.steps:
            if step.kind == "answer":
                out = []
            elif step.kind == "advice":
                out.append(step.node)
        return out


def implied_answer(flow: Flow, checks: Mapping[str, str], question: str) -> tuple[str, str] | None:
    """(option, reason) when a check result answers ``question``; the first check node in
    the definition's order that does wins."""
    for node in flow.check_nodes():
        value = checks.get(node.check)
        option = (node.answers or {}).get(question, {}).get(value or "")
        if value is not None and option is not None:
            label = CHECKS[node.check].label
            return option, f"{label}: {value} (check {node.id})"
    return None


def walk(flow: Flow, checks: Mapping[str, str], answers: Sequence[Answer]) -> Position:
    """Replay the flow from its start; raises ``InvalidInput`` for a check without a
    result, an answer that is not an option, or a flow that loops without asking."""
    current = dict(checks)
    steps: list[Step] = []
    used: list[int] = []
    unused: list[int] = []
    i = 0
    node_id = flow.start
    since_answer = 0
    while True:
        since_answer += 1
        if since_answer > len(flow.nodes) + 1:
            raise InvalidInput(
                f"node {node_id!r}: the flow goes round a loop without asking anything",
                field="definition",
            )
        node = flow.node(node_id)
        if isinstance(node, Check):
            value = current.get(node.check)
            if value is None:
                raise InvalidInput(f"node {node.id!r}: the check {node.check} has no result")
            target = node.target(value)
            steps.append(Step(node.id, "check", value, target, node.text))
            node_id = target
        elif isinstance(node, Advice):
            steps.append(Step(node.id, "advice", None, node.next, node.title))
            node_id = node.next
        elif isinstance(node, Outcome):
            steps.append(Step(node.id, "outcome", node.outcome.value, None, node.text))
            unused.extend(range(i, len(answers)))
            return Position(node.id, True, tuple(steps), tuple(used), tuple(unused), current)
        else:
            implied = implied_answer(flow, current, node.id)
            if implied is not None:
                option_id, reason = implied
                if i < len(answers) and answers[i].node == node.id:
                    unused.append(i)  # given earlier, now answered by a check
                    i += 1
                target = _option(node, option_id).next
                steps.append(Step(node.id, "skip", option_id, target, reason))
                node_id = target
            elif i < len(answers) and answers[i].node == node.id:
                answer = answers[i]
                target = _option(node, answer.option).next
                steps.append(Step(node.id, "answer", answer.option, target))
                used.append(i)
                current.update(answer.refreshed)
                i += 1
                since_answer = 0
                node_id = target
            else:
                steps.append(Step(node.id, "ask"))
                unused.extend(range(i, len(answers)))
                return Position(node.id, False, tuple(steps), tuple(used), tuple(unused), current)


def _option(question: Question, option_id: str) -> Option:
    option = question.option(option_id)
    if option is None:
        raise InvalidInput(f"{option_id!r} is not an option of {question.id!r}", field="option")
    return option


def check_answer(flow: Flow, position: Position, node_id: str, option_id: str) -> Question:
    """Refuse an answer that is not for the open question or not one of its options."""
    if position.finished:
        raise InvalidInput("the flow is finished: there is nothing to answer", field="node")
    if node_id != position.node:
        raise InvalidInput(
            f"{node_id!r} is not the current step; the session is at {position.node!r}",
            field="node",
        )
    question = flow.node(node_id)
    assert isinstance(question, Question)
    if question.option(option_id) is None:
        choices = ", ".join(o.id for o in question.options)
        raise InvalidInput(
            f"{option_id!r} is not an option of {node_id!r} (options: {choices})",
            field="option",
        )
    return question


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def render(text: str, facts: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders from the checks' facts; unknown ones read "unknown"."""
    return _PLACEHOLDER.sub(lambda m: facts.get(m.group(1), "unknown"), text)
