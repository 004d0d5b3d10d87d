"""Demo customers: where they are (premises, NAP port), their status, plan and contacts.

Customers sit only at covered premises whose optical budget closes with at least the
required margin. A few NAPs are filled to the last port (all IN_USE or RESERVED, while
premises they pass are still without service), so "NAP full" exists; elsewhere a NAP keeps
at least two ports free. Apartment buildings (multi-dwelling premises) may hold several
customers, each with a unit.

Ports: installed customers (ACTIVE, SUSPENDED, RELOCATING) hold theirs IN_USE; PENDING,
SCHEDULED and INSTALLING ones hold a RESERVED port; a RELOCATING one also holds a RESERVED
port at the new address (held by ``RELOC:<account>``, as the relocation service does). A
DISCONNECTED customer holds nothing: its row keeps the premises and address but clears
``nap_id`` and ``port_number``, the port is FREE again, and the DISCONNECT order's details
record which NAP port it had.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from fiberdesk.domain.customers import OCCUPYING_STATUSES, ServiceStatus, account_number
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.network import NapPortStatus, PonTechnology
from fiberdesk.services.demo import names, texts
from fiberdesk.services.demo.addresses import Site
from fiberdesk.services.demo.coverage import Coverage
from fiberdesk.services.demo.layout import NetworkPlan
from fiberdesk.services.demo.lives import Life, Seat, Timeline

S = ServiceStatus
#: share of each status (ACTIVE takes what is left); INSTALLING is capped by who is on shift
STATUS_SHARES: dict[ServiceStatus, float] = {
    S.PENDING: 0.04,
    S.SCHEDULED: 0.05,
    S.INSTALLING: 0.005,
    S.SUSPENDED: 0.04,
    S.RELOCATING: 0.015,
    S.DISCONNECTED: 0.09,
}
INSTALLED = frozenset({S.ACTIVE, S.SUSPENDED, S.RELOCATING})
PRE_INSTALL = frozenset({S.PENDING, S.SCHEDULED, S.INSTALLING})
RESIDENTIAL_PLANS = {"BASIC": 12, "STANDARD": 28, "PLUS": 25, "PREMIUM": 15, "GIGABIT": 20}
PLAN_ORDER = ("BASIC", "STANDARD", "PLUS", "PREMIUM", "GIGABIT")
MDU_UNITS = 6
#: contract terms of the seeded catalog, and how often each is signed
TERM_WEIGHTS = {"M2M": 5, "12M": 3, "24M": 2}
#: where customers sign: by phone with a CSR, on the web, at the console (in a shop)
SIGNUP_CHANNELS = ("phone", "phone", "web", "console")
BUSINESS_KINDS = (
    "Dental Care",
    "Law Offices",
    "Insurance Agency",
    "Hardware",
    "Bakery",
    "Auto Repair",
    "Realty",
    "Family Medicine",
    "Accounting",
    "Veterinary Clinic",
    "Cafe",
    "Fitness",
)


@dataclass(slots=True)
class PortState:
    status: NapPortStatus
    life: int | None = None
    #: held for the life's move to a new address (RELOC:<account>), not its service
    relocation: bool = False


def status_quotas(total: int, installing_cap: int) -> dict[ServiceStatus, int]:
    quotas = {s: max(2, round(total * share)) for s, share in STATUS_SHARES.items()}
    quotas[S.INSTALLING] = max(1, min(quotas[S.INSTALLING], installing_cap))
    quotas[S.ACTIVE] = total - sum(quotas.values())
    if quotas[S.ACTIVE] < total // 2:
        raise InvalidInput("too few customers for a demo: ask for at least 50", field="customers")
    return {s: quotas[s] for s in ServiceStatus}


def _units(rng: random.Random, count: int) -> list[str]:
    labels = [f"{floor}{letter}" for floor in range(1, 7) for letter in "ABCDEFGH"]
    return rng.sample(labels, count)


def choose_seats(
    sites: list[Site],
    net: NetworkPlan,
    cov: Coverage,
    eligible: list[int],
    total: int,
    rng: random.Random,
) -> list[Seat]:
    by_nap: dict[int, list[int]] = {}
    for i in eligible:
        by_nap.setdefault(cov.nap[i], []).append(i)
    # a full NAP shows as "NAP full" only at a premises no other NAP can reach
    lonely: dict[int, int] = {}
    for nap, members in sorted(by_nap.items()):
        alone = [i for i in members if cov.in_reach[i] == 1]
        others = [MDU_UNITS if sites[i].multi else 1 for i in members if i != (alone or [-1])[0]]
        if alone and sum(others) >= net.naps[nap].port_count:
            lonely[nap] = alone[0]
    full = rng.sample(sorted(lonely), min(len(lonely), max(2, total // 150)))
    seats: list[Seat] = []
    for nap in sorted(full):
        members = [i for i in by_nap[nap] if i != lonely[nap]]
        rng.shuffle(members)
        left = net.naps[nap].port_count
        for i in members:
            room = min(left, MDU_UNITS)
            if room <= 0:
                break
            units: list[str | None] = list(_units(rng, room)) if sites[i].multi else [None]
            seats.extend(Seat(i, nap, unit, True) for unit in units)
            left -= len(units)
    full_set = set(full)
    pool = [i for i in eligible if cov.nap[i] not in full_set]
    rng.shuffle(pool)
    per_nap: dict[int, int] = {}
    for i in pool:
        if len(seats) >= total:
            break
        nap = cov.nap[i]
        room = net.naps[nap].port_count - 2 - per_nap.get(nap, 0)
        count = min(room, 2 if sites[i].multi and rng.random() < 0.3 else 1)
        if count <= 0:
            continue
        units = list(_units(rng, count)) if sites[i].multi else [None]
        for unit in units[: total - len(seats)]:
            seats.append(Seat(i, nap, unit, False))
            per_nap[nap] = per_nap.get(nap, 0) + 1
    if len(seats) < total:
        raise InvalidInput(
            f"only {len(seats)} customers fit the covered premises: ask for fewer customers "
            "or build over more premises",
            field="customers",
        )
    return seats


def _statuses(seats: list[Seat], quotas: dict[ServiceStatus, int], rng: random.Random) -> list[S]:
    """Statuses by quota; the seats of a full NAP take only occupying statuses."""
    left = dict(quotas)
    occupying = [s for s in ServiceStatus if s in OCCUPYING_STATUSES and s is not S.INSTALLING]
    full: list[ServiceStatus] = []
    for seat in seats:
        if seat.full_nap:
            pick = rng.choices(occupying, weights=[max(0, left[s]) for s in occupying])[0]
            left[pick] -= 1
            full.append(pick)
    rest = [s for s in ServiceStatus for _ in range(max(0, left[s]))]
    rng.shuffle(rest)
    full_it, rest_it = iter(full), iter(rest)
    return [next(full_it) if seat.full_nap else next(rest_it) for seat in seats]


def plan_lives(
    sites: list[Site],
    net: NetworkPlan,
    cov: Coverage,
    *,
    total: int,
    min_margin_db: Decimal,
    standard_drop_m: int,
    rng: random.Random,
    timeline: Timeline,
    installing_cap: int,
) -> list[Life]:
    eligible = [i for i in range(len(sites)) if cov.margin_ok(i, min_margin_db)]
    seats = choose_seats(sites, net, cov, eligible, total, rng)
    statuses = _statuses(seats, status_quotas(total, installing_cap), rng)
    contacts = names.Contacts(rng)
    lives: list[Life] = []
    for seat, status in zip(seats, statuses, strict=True):
        site = sites[seat.site]
        technology = net.pons[net.splitters[net.naps[seat.nap].splitter].pon].technology
        xgs = technology is PonTechnology.XGS_PON
        business = xgs and (rng.random() < (0.65 if site.business else 0.03))
        given, surname = names.person(rng)
        if business:
            name = f"{surname} {rng.choice(BUSINESS_KINDS)} LLC"
            email = contacts.email("office", name.replace(" LLC", ""))
            plan = "BUSINESS"
        else:
            name = f"{given} {surname}"
            email = contacts.email(given, surname)
            plan = rng.choices(list(RESIDENTIAL_PLANS), weights=list(RESIDENTIAL_PLANS.values()))[0]
        # as qualification decides: a long drop or an apartment building needs a survey
        survey = cov.drop_m[seat.site] > standard_drop_m or site.multi
        access = None
        if rng.random() < 0.12:
            access = rng.choice(texts.ACCESS_NOTES).format(code=rng.randrange(1000, 10000))
        term = rng.choices(list(TERM_WEIGHTS), weights=list(TERM_WEIGHTS.values()))[0]
        lives.append(
            Life(
                seat=seat,
                status=status,
                name=name,
                email=email,
                phone=contacts.phone(),
                plan=plan,
                first_plan=plan,
                business=business,
                survey=survey,
                access_notes=access,
                term=term,
                channel=rng.choice(SIGNUP_CHANNELS),
                identity="OTP_SMS" if rng.random() < 0.7 else "OTP_EMAIL",
                credit_score=min(850, max(560, round(rng.gauss(712, 55)))),
            )
        )
    if lives and not any(life.business for life in lives):
        _make_one_business(lives, net, rng)
    order = sorted(
        range(len(lives)),
        key=lambda i: (lives[i].status is not S.INSTALLING, lives[i].status is not S.SCHEDULED, i),
    )
    for i in order:
        timeline.plan(lives[i], sites[lives[i].seat.site].zip)
    _changes(lives, sites, cov, eligible, seats, rng, timeline)
    lives.sort(key=lambda life: life.created_at)
    for seq, life in enumerate(lives, start=1):
        life.account = account_number(seq)
    return lives


def _make_one_business(lives: list[Life], net: NetworkPlan, rng: random.Random) -> None:
    for life in lives:
        nap = net.naps[life.seat.nap]
        if net.pons[net.splitters[nap.splitter].pon].technology is PonTechnology.XGS_PON:
            life.business, life.plan, life.first_plan = True, "BUSINESS", "BUSINESS"
            life.name = f"{life.name.split()[-1]} {rng.choice(BUSINESS_KINDS)} LLC"
            return


def _changes(
    lives: list[Life],
    sites: list[Site],
    cov: Coverage,
    eligible: list[int],
    seats: list[Seat],
    rng: random.Random,
    timeline: Timeline,
) -> None:
    """Plan changes, relocation targets and former addresses, once the dates are known."""
    taken = {seat.site for seat in seats}
    full = {seat.nap for seat in seats if seat.full_nap}
    spare = [i for i in eligible if i not in taken and cov.nap[i] not in full]
    rng.shuffle(spare)
    for life in lives:
        if life.plan_change_at is not None:
            k = PLAN_ORDER.index(life.plan)
            if k > 0 and (k == len(PLAN_ORDER) - 1 or rng.random() < 0.75):
                life.first_plan = PLAN_ORDER[k - 1]  # it was an upgrade
            else:
                life.first_plan = PLAN_ORDER[k + 1]  # a downgrade
        if life.status is S.RELOCATING and spare:
            life.relocation_to = spare.pop()
            life.relocation_nap = cov.nap[life.relocation_to]
            if rng.random() < 0.5:
                life.relocation_slot = timeline.cal.book(
                    timeline.today + timedelta(days=rng.randint(2, 12)),
                    zip_code=sites[life.relocation_to].zip,
                    skill="install",
                )
        if life.moved_slot is not None and spare:
            life.moved_from = spare.pop()
        elif life.moved_slot is not None:
            timeline.cal.release(life.moved_slot)
            life.moved_slot = None


def port_states(
    lives: list[Life], net: NetworkPlan, rng: random.Random, faulty: int
) -> dict[int, dict[int, PortState]]:
    """Every NAP port's state; sets each life's port (or last port, if disconnected)."""
    states: dict[int, dict[int, PortState]] = {
        n: {p: PortState(NapPortStatus.FREE) for p in range(1, nap.port_count + 1)}
        for n, nap in enumerate(net.naps)
    }
    by_install = sorted(
        range(len(lives)), key=lambda i: (lives[i].activated_at or lives[i].created_at, i)
    )
    for i in by_install:
        life = lives[i]
        if life.status is S.DISCONNECTED:
            continue
        ports = states[life.seat.nap]
        number = next(p for p, st in ports.items() if st.status is NapPortStatus.FREE)
        status = NapPortStatus.IN_USE if life.status in INSTALLED else NapPortStatus.RESERVED
        ports[number] = PortState(status, life=i)
        life.port = number
    for life in lives:
        if life.status is S.DISCONNECTED:
            free = [p for p, st in states[life.seat.nap].items() if st.status is NapPortStatus.FREE]
            life.last_port = rng.choice(free) if free else None
    # a move in progress holds a port at the new address, as fiberdesk's relocation does
    for i, life in enumerate(lives):
        if life.status is S.RELOCATING and life.relocation_nap is not None:
            ports = states[life.relocation_nap]
            free = [p for p, st in ports.items() if st.status is NapPortStatus.FREE]
            if free:
                ports[free[0]] = PortState(NapPortStatus.RESERVED, life=i, relocation=True)
                life.relocation_port = free[0]
    full = {life.seat.nap for life in lives if life.seat.full_nap}
    open_naps = [n for n in sorted(states) if n not in full]
    # a few ports out of service (a broken adapter, water in the closure)
    for n in rng.sample(open_naps, min(faulty, len(open_naps))):
        free = [p for p, st in states[n].items() if st.status is NapPortStatus.FREE]
        if len(free) >= 2:
            states[n][free[-1]] = PortState(NapPortStatus.FAULTY)
    return states
