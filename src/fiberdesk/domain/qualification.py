"""Service qualification: the decision for a premises and the reasons a CSR reads out."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from fiberdesk.domain.status import LabelledStatus, Transitions


class Decision(LabelledStatus):
    SERVICEABLE = ("SERVICEABLE", "Serviceable", "green", "Fiber can be installed")
    SITE_SURVEY = ("SITE_SURVEY", "Site survey needed", "amber", "Serviceable after a survey")
    NOT_SERVICEABLE = ("NOT_SERVICEABLE", "Not serviceable", "red", "Cannot be served now")
    ALREADY_SERVED = ("ALREADY_SERVED", "Already served", "blue", "A customer is there")


class Reason(StrEnum):
    """Machine-readable reason codes; each decision carries its sentences too."""

    NO_COVERAGE = "NO_COVERAGE"
    NAP_FULL = "NAP_FULL"
    PON_FULL = "PON_FULL"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
    LONG_DROP = "LONG_DROP"
    MULTI_DWELLING = "MULTI_DWELLING"
    LOW_MARGIN = "LOW_MARGIN"
    EXISTING_CUSTOMER = "EXISTING_CUSTOMER"
    TIERS_LIMITED = "TIERS_LIMITED"


@dataclass(frozen=True, slots=True)
class QualificationRules:
    max_drop_m: int = 250
    standard_drop_m: int = 150
    min_margin_db: Decimal = Decimal("1.0")
    #: sold peak downstream may reach this multiple of the PON's downstream capacity
    oversubscription_limit: Decimal = Decimal("12")


@dataclass(frozen=True, slots=True)
class NapOption:
    """One NAP that could serve the premises, as the engine sees it."""

    nap_id: int
    nap_code: str
    drop_m: int
    free_port: int | None
    pon_used: int
    pon_max_split: int
    predicted_rx_dbm: Decimal
    margin_db: Decimal

    @property
    def pon_has_room(self) -> bool:
        return self.pon_used < self.pon_max_split


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reasons: tuple[Reason, ...]
    messages: tuple[str, ...]
    option: NapOption | None = None
    survey_requirements: tuple[str, ...] = field(default=())
    #: when nothing can serve: the nearest NAP that was full (for build planning)
    blocked: NapOption | None = None


def decide(options: list[NapOption], *, multi_dwelling: bool, rules: QualificationRules) -> Verdict:
    """The decision for a premises given the NAPs within reach, nearest first.

    The first NAP with a free port, room on its PON port and an optical budget inside the
    ONT's range serves; a long drop, a multi-dwelling building or a thin budget margin turn
    SERVICEABLE into SITE_SURVEY. With no such NAP, the reasons name what stood in the way.
    """
    reachable = [o for o in options if o.drop_m <= rules.max_drop_m]
    if not reachable:
        return Verdict(
            Decision.NOT_SERVICEABLE,
            (Reason.NO_COVERAGE,),
            (f"No NAP is within {rules.max_drop_m} m of this address: no fiber coverage yet.",),
        )
    for option in reachable:
        if option.free_port is None or not option.pon_has_room:
            continue
        if option.margin_db < 0:
            continue
        requirements: list[str] = []
        reasons: list[Reason] = []
        if option.drop_m > rules.standard_drop_m:
            reasons.append(Reason.LONG_DROP)
            requirements.append(
                f"Drop of about {option.drop_m} m is longer than the standard "
                f"{rules.standard_drop_m} m: route to be surveyed."
            )
        if multi_dwelling:
            reasons.append(Reason.MULTI_DWELLING)
            requirements.append(
                "Multi-dwelling building: riser and unit access to be agreed with the owner."
            )
        if option.margin_db < rules.min_margin_db:
            reasons.append(Reason.LOW_MARGIN)
            requirements.append(
                f"Optical margin {option.margin_db} dB is under {rules.min_margin_db} dB: "
                "splices and connectors to be checked on site."
            )
        messages = [
            f"NAP {option.nap_code} is {option.drop_m} m away with port "
            f"{option.free_port} free; predicted signal {option.predicted_rx_dbm} dBm "
            f"({option.margin_db} dB above the ONT's sensitivity)."
        ]
        decision = Decision.SITE_SURVEY if requirements else Decision.SERVICEABLE
        return Verdict(
            decision, tuple(reasons), (*messages, *requirements), option, tuple(requirements)
        )
    # nothing can serve: say why, for the nearest NAP of each kind of obstacle
    reasons = []
    messages = []
    full = [o for o in reachable if o.free_port is None]
    pon_full = [o for o in reachable if o.free_port is not None and not o.pon_has_room]
    budget = [
        o for o in reachable if o.free_port is not None and o.pon_has_room and o.margin_db < 0
    ]
    if full:
        reasons.append(Reason.NAP_FULL)
        codes = ", ".join(o.nap_code for o in full[:3])
        messages.append(
            f"Every port of the nearby NAP{'s' if len(full) > 1 else ''} {codes} is taken."
        )
    if pon_full:
        reasons.append(Reason.PON_FULL)
        messages.append(
            f"NAP {pon_full[0].nap_code} has a free port but its PON port is at its split "
            f"limit ({pon_full[0].pon_used}/{pon_full[0].pon_max_split})."
        )
    if budget:
        reasons.append(Reason.BUDGET_EXCEEDED)
        messages.append(
            f"From NAP {budget[0].nap_code} the predicted signal would be "
            f"{budget[0].predicted_rx_dbm} dBm, below the ONT's sensitivity: optical "
            "budget exceeded."
        )
    blocked = full[0] if full else (pon_full[0] if pon_full else None)
    return Verdict(Decision.NOT_SERVICEABLE, tuple(reasons), tuple(messages), blocked=blocked)


class QuoteStatus(LabelledStatus):
    OPEN = ("OPEN", "Open", "blue", "Offered, not yet accepted")
    ACCEPTED = ("ACCEPTED", "Accepted", "green", "Accepted; the port is held")
    ORDERED = ("ORDERED", "Ordered", "purple", "Turned into a service order")
    EXPIRED = ("EXPIRED", "Expired", "grey", "Lapsed before it was used")
    CANCELLED = ("CANCELLED", "Cancelled", "grey", "Withdrawn")


QUOTE_TRANSITIONS: Transitions[QuoteStatus] = Transitions(
    "quote",
    {
        QuoteStatus.OPEN: {QuoteStatus.ACCEPTED, QuoteStatus.EXPIRED, QuoteStatus.CANCELLED},
        QuoteStatus.ACCEPTED: {QuoteStatus.ORDERED, QuoteStatus.EXPIRED, QuoteStatus.CANCELLED},
        QuoteStatus.ORDERED: set(),
        QuoteStatus.EXPIRED: set(),
        QuoteStatus.CANCELLED: set(),
    },
)


class MatchStatus(LabelledStatus):
    MATCHED = ("MATCHED", "Matched", "green", "One premises fits the address")
    AMBIGUOUS = ("AMBIGUOUS", "Ambiguous", "amber", "Several premises fit; choose one")
    NOT_FOUND = ("NOT_FOUND", "Not found", "red", "No premises fits; nearest candidates given")
