"""A troubleshooting flow as data: a graph of questions, checks, advice and outcomes.

``parse_flow`` reads a definition (the JSON of docs/troubleshooting.md) and refuses one
that could misbehave: a target that does not exist, a node nothing leads to, a node that
can never reach an outcome, a loop that asks nothing, an unknown check or outcome. Each
refusal is an ``InvalidInput`` naming the node.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.status import LabelledStatus
from fiberdesk.domain.tickets import TicketCategory
from fiberdesk.domain.troubleshooting.checks import CHECKS

ID = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
RESOLUTION_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
MAX_NODES = 300
MAX_TEXT = 2000


class OutcomeKind(LabelledStatus):
    RESOLVED = ("RESOLVED", "Resolved", "green", "Resolved and documented on the call")
    ESCALATE_NOC = ("ESCALATE_NOC", "Escalated to the NOC", "red", "The NOC takes the ticket")
    TECH_VISIT = ("TECH_VISIT", "Technician visit", "amber", "A repair visit is booked")
    OTDR_TEST = ("OTDR_TEST", "OTDR test", "orange", "The NOC tests the fiber with an OTDR")


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    label: str
    next: str


@dataclass(frozen=True, slots=True)
class Question:
    kind: ClassVar[str] = "question"
    id: str
    text: str
    options: tuple[Option, ...]
    help: str = ""

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    def targets(self) -> list[str]:
        return [o.next for o in self.options]


@dataclass(frozen=True, slots=True)
class Check:
    """An automatic check: its value picks the next node (``branches``, else ``default``).

    ``answers`` maps a question's id to {value: option}: when the check gives that value,
    the question is answered by it and never asked (checks all run when a session starts,
    so this holds wherever the question sits in the flow)."""

    kind: ClassVar[str] = "check"
    id: str
    check: str
    text: str
    branches: Mapping[str, str]
    default: str | None = None
    answers: Mapping[str, Mapping[str, str]] | None = None

    def target(self, value: str) -> str:
        target = self.branches.get(value, self.default)
        if target is None:
            raise InvalidInput(f"node {self.id!r}: no branch for the value {value!r}")
        return target

    def targets(self) -> list[str]:
        return [*self.branches.values(), *([self.default] if self.default else [])]


@dataclass(frozen=True, slots=True)
class Advice:
    kind: ClassVar[str] = "advice"
    id: str
    title: str
    steps: tuple[str, ...]
    next: str

    def targets(self) -> list[str]:
        return [self.next]


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: ClassVar[str] = "outcome"
    id: str
    outcome: OutcomeKind
    code: str
    text: str

    def targets(self) -> list[str]:
        return []


Node = Question | Check | Advice | Outcome


@dataclass(frozen=True, slots=True)
class Flow:
    code: str
    name: str
    category: str | None
    description: str
    start: str
    nodes: Mapping[str, Node]

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise InvalidInput(f"flow {self.code} has no node {node_id!r}", field="node") from None

    def check_nodes(self) -> Iterator[Check]:
        return (n for n in self.nodes.values() if isinstance(n, Check))

    def checks_used(self) -> list[str]:
        """The check names the flow needs, in the order they first appear."""
        return list(dict.fromkeys(n.check for n in self.check_nodes()))


# -- reading a definition -------------------------------------------------------------------

NODE_KEYS = {
    "question": ({"id", "kind", "text", "options"}, {"help"}),
    "check": ({"id", "kind", "check", "branches"}, {"text", "default", "answers"}),
    "advice": ({"id", "kind", "title", "steps", "next"}, set()),
    "outcome": ({"id", "kind", "outcome", "code", "text"}, set()),
}
TOP_KEYS = ({"code", "name", "start", "nodes"}, {"category", "description"})


def _bad(where: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{where}: {reason}", field="definition", extra={"where": where})


def _text(value: Any, where: str, what: str, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str) or (not value.strip() and not optional):
        raise _bad(where, f"{what} must be non-empty text")
    if len(value) > MAX_TEXT:
        raise _bad(where, f"{what} is over {MAX_TEXT} characters")
    return value.strip()


def _keys(raw: Mapping[str, Any], allowed: tuple[set[str], set[str]], where: str) -> None:
    required, optional = allowed
    missing = sorted(required - raw.keys())
    unknown = sorted(raw.keys() - required - optional)
    if missing:
        raise _bad(where, "missing " + ", ".join(missing))
    if unknown:
        raise _bad(where, "unknown field " + ", ".join(unknown))


def _ident(value: Any, where: str, what: str) -> str:
    if not isinstance(value, str) or not ID.match(value):
        raise _bad(where, f"{what} {value!r} must be lower_snake_case, at most 60 characters")
    return value


def _str_map(value: Any, where: str, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _bad(where, f"{what} must map text to text")
    return dict(value)


def _question(raw: Mapping[str, Any], where: str) -> Question:
    options = raw["options"]
    if not isinstance(options, list) or len(options) < 2:
        raise _bad(where, "a question needs at least two options")
    parsed = []
    for i, opt in enumerate(options):
        at = f"{where}, option {i + 1}"
        if not isinstance(opt, dict):
            raise _bad(at, "an option is {id, label, next}")
        _keys(opt, ({"id", "label", "next"}, set()), at)
        parsed.append(
            Option(
                _ident(opt["id"], at, "option id"),
                _text(opt["label"], at, "label"),
                _ident(opt["next"], at, "next"),
            )
        )
    if len({o.id for o in parsed}) != len(parsed):
        raise _bad(where, "two options share an id")
    return Question(
        raw["id"],
        _text(raw["text"], where, "text"),
        tuple(parsed),
        _text(raw.get("help"), where, "help", optional=True),
    )


def _check(raw: Mapping[str, Any], where: str) -> Check:
    spec = CHECKS.get(raw["check"]) if isinstance(raw["check"], str) else None
    if spec is None:
        raise _bad(where, f"unknown check {raw['check']!r} (known: {', '.join(CHECKS)})")
    branches = _str_map(raw["branches"], where, "branches")
    default = raw.get("default")
    if default is not None:
        _ident(default, where, "default")
    for value in branches:
        if value not in spec.values:
            raise _bad(where, f"{spec.name} never gives {value!r} ({', '.join(spec.values)})")
    uncovered = [v for v in spec.values if v not in branches]
    if uncovered and default is None:
        raise _bad(where, f"no branch for {', '.join(uncovered)} and no default")
    answers: dict[str, dict[str, str]] = {}
    raw_answers = raw.get("answers") or {}
    if not isinstance(raw_answers, dict):
        raise _bad(where, "answers must map a question id to {value: option}")
    for question_id, mapping in raw_answers.items():
        _ident(question_id, where, "answered question")
        answers[question_id] = _str_map(mapping, where, f"answers for {question_id}")
        for value in answers[question_id]:
            if value not in spec.values:
                raise _bad(where, f"{spec.name} never gives {value!r}")
    return Check(
        raw["id"],
        spec.name,
        _text(raw.get("text"), where, "text", optional=True) or spec.label,
        branches,
        default,
        answers or None,
    )


def _node(raw: Any, index: int) -> Node:
    if not isinstance(raw, dict):
        raise _bad(f"node {index + 1}", "a node is an object")
    node_id = raw.get("id")
    where = f"node {node_id!r}" if isinstance(node_id, str) else f"node {index + 1}"
    kind = raw.get("kind")
    if kind not in NODE_KEYS:
        raise _bad(where, f"kind must be one of {', '.join(NODE_KEYS)}")
    _keys(raw, NODE_KEYS[kind], where)
    _ident(node_id, where, "id")
    if kind == "question":
        return _question(raw, where)
    if kind == "check":
        return _check(raw, where)
    if kind == "advice":
        steps = raw["steps"]
        if not isinstance(steps, list) or not steps:
            raise _bad(where, "advice needs a list of steps")
        return Advice(
            raw["id"],
            _text(raw["title"], where, "title"),
            tuple(_text(s, where, "a step") for s in steps),
            _ident(raw["next"], where, "next"),
        )
    try:
        outcome = OutcomeKind(raw["outcome"])
    except ValueError:
        known = ", ".join(o.value for o in OutcomeKind)
        raise _bad(where, f"outcome {raw['outcome']!r} is not one of {known}") from None
    code = raw["code"]
    if not isinstance(code, str) or not RESOLUTION_CODE.match(code):
        raise _bad(where, "the code must be UPPER_SNAKE_CASE, at most 40 characters")
    return Outcome(raw["id"], outcome, code, _text(raw["text"], where, "text"))


def parse_flow(definition: Any) -> Flow:
    """Read and validate a flow definition; ``InvalidInput`` names what is wrong."""
    if not isinstance(definition, dict):
        raise _bad("flow", "a definition is a JSON object")
    _keys(definition, TOP_KEYS, "flow")
    code = definition["code"]
    if not isinstance(code, str) or not CODE.match(code):
        raise _bad("flow", f"code {code!r} must be lower_snake_case, 2 to 32 characters")
    where = f"flow {code}"
    raw_nodes = definition["nodes"]
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise _bad(where, "nodes must be a non-empty list")
    if len(raw_nodes) > MAX_NODES:
        raise _bad(where, f"more than {MAX_NODES} nodes")
    nodes: dict[str, Node] = {}
    for i, raw in enumerate(raw_nodes):
        node = _node(raw, i)
        if node.id in nodes:
            raise _bad(f"node {node.id!r}", "the id is used twice")
        nodes[node.id] = node
    category = definition.get("category")
    if category is not None and category not in {c.value for c in TicketCategory}:
        raise _bad(where, f"category {category!r} is not a ticket category")
    flow = Flow(
        code,
        _text(definition["name"], where, "name"),
        category,
        _text(definition.get("description"), where, "description", optional=True),
        _ident(definition["start"], where, "start"),
        nodes,
    )
    _check_graph(flow)
    return flow


def _check_graph(flow: Flow) -> None:
    nodes = flow.nodes
    if flow.start not in nodes:
        raise _bad(f"flow {flow.code}", f"start {flow.start!r} is not a node")
    for node in nodes.values():
        for target in node.targets():
            if target not in nodes:
                raise _bad(f"node {node.id!r}", f"leads to {target!r}, which is not a node")
        if isinstance(node, Check):
            for question_id, mapping in (node.answers or {}).items():
                question = nodes.get(question_id)
                if not isinstance(question, Question):
                    raise _bad(f"node {node.id!r}", f"answers {question_id!r}: not a question")
                for option in mapping.values():
                    if question.option(option) is None:
                        raise _bad(f"node {node.id!r}", f"{question_id} has no option {option!r}")
    reached = _reach([flow.start], lambda n: nodes[n].targets())
    for node_id in nodes:
        if node_id not in reached:
            raise _bad(f"node {node_id!r}", "nothing leads to it (unreachable)")
    sources: dict[str, list[str]] = {n: [] for n in nodes}
    for node in nodes.values():
        for target in node.targets():
            sources[target].append(node.id)
    outcomes = [n.id for n in nodes.values() if isinstance(n, Outcome)]
    finishing = _reach(outcomes, lambda n: sources[n])
    for node_id in nodes:
        if node_id not in finishing:
            raise _bad(f"node {node_id!r}", "it can never lead to an outcome")
    _no_silent_loop(flow)


def _reach(starts: list[str], edges: Any) -> set[str]:
    seen, todo = set(starts), list(starts)
    while todo:
        for target in edges(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _no_silent_loop(flow: Flow) -> None:
    """Refuse a cycle through checks and advice only: it would run for ever."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node_id: str) -> None:
        state[node_id] = 1
        node = flow.nodes[node_id]
        for target in node.targets():
            if isinstance(flow.nodes[target], Question):
                continue
            if state.get(target) == 1:
                raise _bad(f"node {target!r}", "it is on a loop that asks no question")
            if target not in state:
                visit(target)
        state[node_id] = 2

    for node_id, node in flow.nodes.items():
        if node_id not in state and not isinstance(node, Question):
            visit(node_id)
