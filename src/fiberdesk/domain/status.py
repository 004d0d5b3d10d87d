"""Status enums with labels, colours and their allowed transitions.

Each lifecycle status is a ``str`` enum whose members carry a label and a colour for
the pages; the allowed transitions sit beside the enum in a ``Transitions`` table, and
``Transitions.check`` refuses any move that is not listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from fiberdesk.domain.errors import TransitionRefused


class LabelledStatus(StrEnum):
    """A status stored as its code; ``label`` and ``colour`` are for people."""

    label: str
    colour: str
    description: str

    def __new__(
        cls, code: str, label: str = "", colour: str = "grey", description: str = ""
    ) -> LabelledStatus:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label or code.replace("_", " ").capitalize()
        member.colour = colour
        member.description = description
        return member


S = TypeVar("S", bound=LabelledStatus)


class Transitions(Generic[S]):
    """The allowed moves of one status enum."""

    def __init__(self, name: str, moves: Mapping[S, Iterable[S]]) -> None:
        self.name = name
        self.moves: dict[S, frozenset[S]] = {s: frozenset(t) for s, t in moves.items()}

    def allowed(self, current: S, target: S) -> bool:
        return target in self.moves.get(current, frozenset())

    def targets(self, current: S) -> frozenset[S]:
        return self.moves.get(current, frozenset())

    def check(self, current: S, target: S) -> None:
        if not self.allowed(current, target):
            allowed = ", ".join(sorted(self.targets(current))) or "none"
            raise TransitionRefused(
                f"{self.name} cannot go from {current.value} to {target.value} "
                f"(allowed from {current.value}: {allowed})"
            )
