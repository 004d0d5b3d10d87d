"""The automatic checks a troubleshooting flow can branch on.

Each check has a name, the values it can give, and a rule deciding the value from what
the network and the account show (``Observations``). The services gather the readings
(remote diagnostics, outages, maintenance, the plan); the decisions are made here, so
they are the same for every entry point and can be tested without a network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.network import SignalClass, signal_class

YES_NO = ("yes", "no")
#: PON utilisation at or above this share counts as congestion
CONGESTION_AT = 0.8
#: alarms raised in 24 hours from which the line counts as unstable
MANY_ALARMS = 3
#: ONTs down at once under one splitter (the customer's included) that make an area outage
AREA_OUTAGE_MIN_ONTS = 2


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    label: str
    values: tuple[str, ...]
    #: what the check reads, for people editing flows
    reads: str


@dataclass(frozen=True, slots=True)
class Observations:
    """What the remote checks saw for one customer, in plain values."""

    service_status: str
    admin_state: str = "ACTIVE"
    registered: bool = True
    online: bool = True
    #: alarm kinds standing now on the ONT (LOS, LOF, DYING_GASP, LOW_RX, ...)
    active_alarms: tuple[str, ...] = ()
    #: alarm kinds raised on the ONT in the last 24 hours, cleared or not
    alarms_24h: tuple[str, ...] = ()
    rx_dbm: Decimal | None = None
    #: (sent, received, average round trip ms); None when the ping could not run
    ping: tuple[int, int, float | None] | None = None
    #: a maintenance window open on the customer's path now: its title and end
    maintenance: tuple[str, str] | None = None
    #: an unresolved outage on the customer's path: its scope and estimated end
    outage: tuple[str, str | None] | None = None
    #: ONTs under the customer's splitter in LOS or dying gasp now (theirs included)
    neighbours_down: int = 0
    pon_utilisation: float | None = None
    #: (name, down Mb/s, up Mb/s) of the plan on the account
    plan: tuple[str, int, int] | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    value: str
    detail: str
    #: values question and advice texts may quote, e.g. {"rx_dbm": "-21.4"}
    facts: dict[str, str] = field(default_factory=dict)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _standing(o: Observations) -> CheckResult:
    status = o.service_status
    if status == ServiceStatus.ACTIVE.value:
        return CheckResult("good", "the account is active")
    if status == ServiceStatus.SUSPENDED.value:
        return CheckResult("suspended", "the account is suspended")
    if status == ServiceStatus.DISCONNECTED.value:
        return CheckResult("closed", "the account is closed (disconnected)")
    return CheckResult("not_in_service", f"the service is not in service yet ({status})")


def _suspended(o: Observations) -> CheckResult:
    on_account = o.service_status == ServiceStatus.SUSPENDED.value
    on_olt = o.admin_state == "SUSPENDED"
    where = [w for w, flag in (("the account", on_account), ("the OLT", on_olt)) if flag]
    detail = "suspended on " + " and ".join(where) if where else "not suspended"
    return CheckResult(_yes(bool(where)), detail)


def _maintenance(o: Observations) -> CheckResult:
    if o.maintenance is None:
        return CheckResult("no", "no maintenance open on the customer's path")
    title, until = o.maintenance
    return CheckResult(
        "yes",
        f"maintenance '{title}' until {until}",
        {"maintenance_title": title, "maintenance_until": until},
    )


def _outage(o: Observations) -> CheckResult:
    if o.outage is not None:
        scope, eta = o.outage
        facts = {"outage_scope": scope, "outage_eta": eta or "not yet known"}
        return CheckResult("yes", f"open outage on {scope}", facts)
    if o.neighbours_down >= AREA_OUTAGE_MIN_ONTS:
        facts = {"outage_scope": "the customer's splitter", "outage_eta": "not yet known"}
        return CheckResult(
            "yes", f"{o.neighbours_down} ONTs under the customer's splitter are down", facts
        )
    return CheckResult("no", "no outage on the customer's path")


def _registered(o: Observations) -> CheckResult:
    return CheckResult(_yes(o.registered), "registered" if o.registered else "not registered")


def _online(o: Observations) -> CheckResult:
    return CheckResult(_yes(o.online), "online" if o.online else "offline")


def _los(o: Observations) -> CheckResult:
    los = any(k in ("LOS", "LOF") for k in o.active_alarms)
    return CheckResult(_yes(los), "loss of signal" if los else "no loss of signal")


def _gasp(o: Observations) -> CheckResult:
    gasp = "DYING_GASP" in o.active_alarms
    return CheckResult(_yes(gasp), "the ONT lost power" if gasp else "no dying gasp")


def _signal(o: Observations) -> CheckResult:
    if o.rx_dbm is None:
        return CheckResult("none", "no Rx reading (the ONT is offline)")
    cls = signal_class(o.rx_dbm)
    facts = {"rx_dbm": str(o.rx_dbm), "signal": cls.label}
    return CheckResult(cls.value.lower(), f"Rx {o.rx_dbm} dBm: {cls.label}", facts)


def _ping(o: Observations) -> CheckResult:
    if o.ping is None:
        return CheckResult("unreachable", "the ping could not run")
    sent, received, rtt = o.ping
    facts = {"ping_rtt_ms": str(rtt)} if rtt is not None else {}
    detail = f"{received} of {sent} replies" + (f", {rtt} ms" if rtt is not None else "")
    if received == 0:
        return CheckResult("unreachable", detail, facts)
    return CheckResult("ok" if received == sent else "loss", detail, facts)


def _recent(o: Observations) -> CheckResult:
    n = len(o.alarms_24h)
    value = "none" if n == 0 else "many" if n >= MANY_ALARMS else "some"
    kinds = ", ".join(sorted(set(o.alarms_24h)))
    detail = f"{n} alarms in 24 h" + (f": {kinds}" if kinds else "")
    return CheckResult(value, detail, {"alarms_24h": str(n)})


def _alarm_kind(o: Observations) -> CheckResult:
    kinds = set(o.alarms_24h)
    if kinds & {"LOS", "LOF", "DEREGISTERED"}:
        return CheckResult("los", "loss of signal in the last 24 h")
    if "DYING_GASP" in kinds:
        return CheckResult("power", "the ONT lost power in the last 24 h")
    if kinds & {"LOW_RX", "HIGH_RX"}:
        return CheckResult("low_rx", "receive power out of range in the last 24 h")
    return CheckResult("none", "no alarms in the last 24 h")


def _congestion(o: Observations) -> CheckResult:
    if o.pon_utilisation is None:
        return CheckResult("unknown", "PON utilisation unavailable")
    pct = f"{o.pon_utilisation * 100:.0f}"
    value = _yes(o.pon_utilisation >= CONGESTION_AT)
    return CheckResult(value, f"PON port at {pct}% downstream", {"pon_utilisation_pct": pct})


def _plan(o: Observations) -> CheckResult:
    if o.plan is None:
        return CheckResult("none", "no plan on the account")
    name, down, up = o.plan
    facts = {"plan_name": name, "plan_down_mbps": str(down), "plan_up_mbps": str(up)}
    return CheckResult("known", f"{name}: {down}/{up} Mb/s", facts)


_SIGNAL_VALUES = (*(c.value.lower() for c in SignalClass), "none")
_RULES: tuple[tuple[CheckSpec, Callable[[Observations], CheckResult]], ...] = (
    (CheckSpec("account_standing", "Account standing",
               ("good", "suspended", "closed", "not_in_service"),
               "the customer's service status"), _standing),
    (CheckSpec("account_suspended", "Service suspended", YES_NO,
               "the service status, and the ONT's admin state on the OLT"), _suspended),
    (CheckSpec("maintenance_active", "Maintenance in progress", YES_NO,
               "maintenance windows open now on the customer's NAP, splitter, PON port or OLT"),
     _maintenance),
    (CheckSpec("area_outage", "Outage in the area", YES_NO,
               "unresolved outages on the customer's path; ONTs under the same splitter "
               f"down at once (at least {AREA_OUTAGE_MIN_ONTS})"), _outage),
    (CheckSpec("ont_registered", "ONT registered on the OLT", YES_NO,
               "the OLT's view of the ONT"), _registered),
    (CheckSpec("ont_online", "ONT online", YES_NO, "the OLT's view of the ONT"), _online),
    (CheckSpec("ont_los", "Loss of signal", YES_NO, "LOS or LOF standing on the ONT now"),
     _los),
    (CheckSpec("dying_gasp", "Dying gasp (power lost)", YES_NO,
               "a dying-gasp alarm standing on the ONT now"), _gasp),
    (CheckSpec("signal_class", "Signal level", _SIGNAL_VALUES,
               "the ONT's measured Rx power, classed excellent/good/acceptable/poor"), _signal),
    (CheckSpec("ping", "Ping from the NOC", ("ok", "loss", "unreachable"),
               "four pings to the ONT"), _ping),
    (CheckSpec("recent_alarms", "Alarms in the last 24 h", ("none", "some", "many"),
               f"alarms raised on the ONT in 24 h ({MANY_ALARMS} or more: many)"), _recent),
    (CheckSpec("alarm_kind", "Kind of recent alarms", ("los", "power", "low_rx", "none"),
               "the most serious alarm kind raised on the ONT in 24 h"), _alarm_kind),
    (CheckSpec("pon_congestion", "PON port congested", ("yes", "no", "unknown"),
               f"the PON port's downstream utilisation now ({CONGESTION_AT:.0%} or more)"),
     _congestion),
    (CheckSpec("plan_on_account", "Plan on the account", ("known", "none"),
               "the plan's name and speeds"), _plan),
)  # fmt: skip

CHECKS: dict[str, CheckSpec] = {spec.name: spec for spec, _rule in _RULES}
_EVALUATE = {spec.name: rule for spec, rule in _RULES}


def evaluate(names: Iterable[str], observations: Observations) -> dict[str, CheckResult]:
    """The results of the named checks (unknown names raise ``KeyError``)."""
    return {name: _EVALUATE[name](observations) for name in names}
