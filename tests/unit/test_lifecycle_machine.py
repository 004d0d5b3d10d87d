"""State-machine tests: random walks through the customer lifecycle keep its invariants.

Hypothesis drives the spec's seven service statuses through every allowed move (and tries
refused ones), checking what must always hold: DISCONNECTED is final, a customer only
occupies a port while not disconnected, and no move outside the table is ever accepted.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fiberdesk.domain.customers import OCCUPYING_STATUSES, SERVICE_TRANSITIONS, ServiceStatus
from fiberdesk.domain.errors import TransitionRefused


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.status = ServiceStatus.PENDING
        self.history = [self.status]

    @precondition(lambda self: bool(SERVICE_TRANSITIONS.targets(self.status)))
    @rule(data=st.data())
    def allowed_move(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(sorted(SERVICE_TRANSITIONS.targets(self.status))))
        SERVICE_TRANSITIONS.check(self.status, target)
        self.status = target
        self.history.append(target)

    @rule(to=st.sampled_from(list(ServiceStatus)))
    def any_move(self, to: ServiceStatus) -> None:
        if SERVICE_TRANSITIONS.allowed(self.status, to):
            self.status = to
            self.history.append(to)
        else:
            try:
                SERVICE_TRANSITIONS.check(self.status, to)
            except TransitionRefused:
                return
            raise AssertionError(f"{self.status} -> {to} was accepted")

    @invariant()
    def disconnected_is_final(self) -> None:
        if ServiceStatus.DISCONNECTED in self.history:
            assert self.history[-1] is ServiceStatus.DISCONNECTED

    @invariant()
    def occupies_a_port_exactly_while_not_closed(self) -> None:
        assert (self.status in OCCUPYING_STATUSES) is (
            self.status is not ServiceStatus.DISCONNECTED
        )

    @invariant()
    def active_only_after_installing_or_a_hold(self) -> None:
        for before, after in zip(self.history, self.history[1:], strict=False):
            if after is ServiceStatus.ACTIVE:
                assert before in (
                    ServiceStatus.INSTALLING,
                    ServiceStatus.SUSPENDED,
                    ServiceStatus.RELOCATING,
                )


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=200, stateful_step_count=30)
