"""What the console's sign-up wizard (``web/console/signup.py``) and the customers' own
sign-up pages (``web/ui/selfservice.py``) share: the steps bar, which steps an order has
done and which comes next, the installation windows to offer, and reading a window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.domain.errors import FiberdeskError, InvalidInput
from fiberdesk.domain.users import Actor
from fiberdesk.services import scheduling, signup_views


@dataclass(frozen=True, slots=True)
class SignupSteps:
    #: every step, in order: (key, label)
    steps: tuple[tuple[str, str], ...]
    #: the steps of an entered order, in order
    order_steps: tuple[str, ...]
    #: the checklist item that marks an order step done, where its key is not the item's
    items: dict[str, str] = field(default_factory=dict)
    #: the steps done once an order exists
    before_order: frozenset[str] = frozenset()

    def done(self, summary: signup_views.SignupSummary) -> set[str]:
        done = set(self.before_order)
        for step in self.order_steps:
            if summary.done[self.items.get(step, step)]:
                done.add(step)
        return done

    def next(self, summary: signup_views.SignupSummary) -> str:
        done = self.done(summary)
        return next((s for s in self.order_steps if s not in done), "done")

    def bar(
        self, current: str, done: set[str], url: Callable[[str], str | None] | None = None
    ) -> list[dict[str, Any]]:
        """Each step's label, whether it is done or current, and a link back (or None)."""
        return [
            {
                "key": key,
                "label": label,
                "done": key in done,
                "current": key == current,
                "url": url(key) if url else None,
            }
            for key, label in self.steps
        ]


def open_windows(app: Fiberdesk, actor: Actor, order_id: int, limit: int) -> list[scheduling.Slot]:
    """The installation windows to offer for the order; none when they cannot be found."""
    try:
        return scheduling.find_windows(
            app.uow, actor=actor, order_id=order_id, settings=app.scheduling, limit=limit
        )
    except FiberdeskError:
        return []


def parse_slot(value: str, message: str) -> tuple[date, str]:
    """A window chosen as ``YYYY-MM-DD|window``: (day, window); ``message`` when unreadable."""
    day, _, window = value.partition("|")
    try:
        return date.fromisoformat(day), window
    except ValueError:
        raise InvalidInput(message, field="slot") from None


def card_last4(number: str) -> str:
    """The last four digits of a card number as typed."""
    return "".join(ch for ch in number if ch.isdigit())[-4:]
