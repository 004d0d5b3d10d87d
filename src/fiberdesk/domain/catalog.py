"""The service catalog: the spec's six tiers with editable default prices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fiberdesk.domain.network import PonTechnology


@dataclass(frozen=True, slots=True)
class TierSpec:
    code: str
    name: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Decimal
    use_case: str
    technologies: frozenset[PonTechnology]
    static_ip: bool = False

    @property
    def symmetric(self) -> bool:
        return self.download_mbps == self.upload_mbps


_ANY = frozenset(PonTechnology)

#: the spec's tiers; prices are the defaults a new operator starts from
DEFAULT_TIERS: tuple[TierSpec, ...] = (
    TierSpec("BASIC", "Basic", 50, 25, Decimal("39.99"), "Light users", _ANY),
    TierSpec("STANDARD", "Standard", 100, 50, Decimal("49.99"), "Typical home", _ANY),
    TierSpec("PLUS", "Plus", 300, 150, Decimal("64.99"), "Streaming/WFH", _ANY),
    TierSpec("PREMIUM", "Premium", 500, 250, Decimal("79.99"), "Power users", _ANY),
    TierSpec("GIGABIT", "Gigabit", 1000, 500, Decimal("99.99"), "Enthusiasts", _ANY),
    # symmetric 1 Gb/s needs XGS-PON: GPON's 1.244 Gb/s upstream is shared by the whole tree
    TierSpec(
        "BUSINESS",
        "Business",
        1000,
        1000,
        Decimal("199.99"),
        "Commercial",
        frozenset({PonTechnology.XGS_PON}),
        static_ip=True,
    ),
)

DEFAULT_INSTALL_FEE = Decimal("99.00")


@dataclass(frozen=True, slots=True)
class TierOffer:
    code: str
    offered: bool
    reason: str | None = None


def tier_offers(
    tiers: list[TierSpec],
    *,
    technology: PonTechnology,
    sold_peak_mbps: int,
    oversubscription_limit: Decimal,
) -> list[TierOffer]:
    """Which tiers a PON port can sell: the technology must carry the tier, and adding the
    tier's peak must keep the port's sold peak downstream within its oversubscription limit."""
    ceiling = Decimal(technology.downstream_mbps) * oversubscription_limit
    offers = []
    for tier in tiers:
        if technology not in tier.technologies:
            needs = " or ".join(sorted(t.label for t in tier.technologies))
            offers.append(
                TierOffer(tier.code, False, f"needs {needs}; this PON is {technology.label}")
            )
        elif sold_peak_mbps + tier.download_mbps > ceiling:
            offers.append(
                TierOffer(tier.code, False, "the PON port is too heavily sold for this speed")
            )
        else:
            offers.append(TierOffer(tier.code, True))
    return offers
