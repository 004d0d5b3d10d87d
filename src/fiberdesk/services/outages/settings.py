"""Outage settings: the correlation rules, how far back to look, the repair estimates by
kind and scope, and what the notices say about the company."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fiberdesk.domain.correlation import CorrelationRules
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.outages import OutageKind, Scope

DEFAULT_ETA_HOURS: dict[str, float] = {"FIBER": 4, "POWER": 2, "FIBER:PON_PORT": 6, "FIBER:OLT": 8}


def parse_eta_hours(text: str) -> dict[str, float]:
    """``FIBER=4,POWER=2,FIBER:OLT=8``: hours to repair by kind, or kind and scope."""
    hours: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        kind, _, scope = key.strip().upper().partition(":")
        try:
            OutageKind(kind)
            if scope:
                Scope(scope)
            hours[key.strip().upper()] = float(value)
        except ValueError:
            raise InvalidInput(f"{part!r} is not KIND[:SCOPE]=HOURS", field="eta_hours") from None
    return hours


@dataclass(frozen=True, slots=True)
class OutageSettings:
    window_minutes: float = 5
    min_share: float = 0.6
    min_onts: int = 3
    min_children: int = 2
    #: how far back correlation and polling look, hours
    lookback_hours: float = 24
    eta_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_ETA_HOURS))
    #: resolve an outage by itself when every one of its alarms has cleared
    auto_resolve: bool = True
    company_name: str = "fiberdesk"
    support_phone: str = ""

    @property
    def rules(self) -> CorrelationRules:
        return CorrelationRules(
            timedelta(minutes=self.window_minutes), self.min_share, self.min_onts, self.min_children
        )

    def eta(self, kind: OutageKind, scope: Scope) -> timedelta:
        hours = self.eta_hours.get(f"{kind.value}:{scope.value}", self.eta_hours.get(kind.value))
        return timedelta(hours=4 if hours is None else hours)


def settings_from(config: Any) -> OutageSettings:
    """Outage settings from the application's settings (``outage_*`` names, defaults else)."""
    d = OutageSettings()
    eta = getattr(config, "outage_eta_hours", None)
    return OutageSettings(
        window_minutes=getattr(config, "outage_window_minutes", d.window_minutes),
        min_share=getattr(config, "outage_min_share", d.min_share),
        min_onts=getattr(config, "outage_min_onts", d.min_onts),
        min_children=getattr(config, "outage_min_children", d.min_children),
        lookback_hours=getattr(config, "outage_lookback_hours", d.lookback_hours),
        eta_hours=parse_eta_hours(eta) if isinstance(eta, str) else d.eta_hours,
        auto_resolve=getattr(config, "outage_auto_resolve", d.auto_resolve),
        company_name=getattr(config, "company_name", d.company_name),
        support_phone=getattr(config, "support_phone", d.support_phone),
    )


DEFAULT_SETTINGS = OutageSettings()
