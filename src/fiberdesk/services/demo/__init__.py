"""The demo operator: ``build_demo`` fills a fresh database with a realistic FTTH operator.

Over the real Baltimore County address points it builds three central offices with OLTs,
PON ports, LCP splitters and NAPs near the premises they serve (some areas left dark on
purpose), the six service tiers, staff users and technicians with shifts, at least 2,000
customers in every status, ONT and IP stock, and six months of orders, appointments,
tickets and notes. The same seed and ``today`` give the same operator.

The whole operator is planned in memory first, then written with bulk inserts: users and the
admin token (through ``services.auth``), the premises (through
``services.premises.import_premises``), and everything else in one transaction that ends
with one ``demo.build`` audit row.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db import migrate
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.network import NapPortStatus, PonTechnology
from fiberdesk.domain.tickets import DEFAULT_SLA_HOURS, TicketPriority, TicketStatus, parse_sla
from fiberdesk.domain.users import SYSTEM_ACTOR, Actor, Permission
from fiberdesk.services import audit
from fiberdesk.services.demo import (
    addresses,
    changes,
    coverage,
    database,
    layout,
    network,
    people,
    signup,
    stock,
)
from fiberdesk.services.demo import (
    billing as demo_billing,
)
from fiberdesk.services.demo import (
    customers as customer_plan,
)
from fiberdesk.services.demo import (
    notes as customer_notes,
)
from fiberdesk.services.demo import (
    surveys as demo_surveys,
)
from fiberdesk.services.demo.calendar import WINDOWS, Calendar, Window, parse_windows
from fiberdesk.services.demo.context import DemoContext, stream
from fiberdesk.services.demo.history import OrderBook
from fiberdesk.services.demo.lives import Timeline
from fiberdesk.services.demo.people import DEMO_PASSWORD, DemoUser
from fiberdesk.services.demo.tickets import TicketDesk

__all__ = [
    "DEFAULT_CUSTOMERS",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "MAX_CUSTOMERS",
    "MIN_CUSTOMERS",
    "DemoSummary",
    "DemoUser",
    "Progress",
    "build_demo",
]

#: ``progress(phase, done, total)``, called as each phase advances
Progress = Callable[[str, int, int], None]
UowFactory = Callable[[], UnitOfWork]

DEFAULT_SEED = 2026
DEFAULT_CUSTOMERS = 2400
MIN_CUSTOMERS, MAX_CUSTOMERS = 50, 10_000


@dataclass
class DemoSummary:
    seed: int
    today: date
    premises: int
    covered_premises: int
    coverage_pct: float
    uncovered_beyond_reach: int
    uncovered_unbuilt_phase: int
    long_drop_premises: int
    budget_exceeded_premises: int
    central_offices: int
    olts: int
    pon_ports: int
    xgs_pon_ports: int
    splitters: int
    naps: int
    full_naps: int
    nap_ports: int
    plans: int
    customers: int
    customers_by_status: dict[str, int]
    service_orders: int
    orders_by_type: dict[str, int]
    appointments: int
    tickets: int
    open_tickets: int
    outages: int
    notes: int
    technicians: int
    equipment: int
    ip_addresses: int
    ip_addresses_assigned: int
    contracts: int
    registered_onts: int
    users: list[DemoUser]
    demo_password: str
    admin_token: str
    wiped: bool
    #: answered and unanswered satisfaction surveys in the history
    surveys: int = 0
    elapsed_s: float = 0.0

    def counts(self) -> dict[str, object]:
        """The figures for the audit row (no token, no timing)."""
        skip = {"users", "admin_token", "demo_password", "elapsed_s", "today"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}


@dataclass(frozen=True)
class DemoRules:
    """The operator's settings the demo follows (defaults when given a bare factory)."""

    max_drop_m: int = 250
    standard_drop_m: int = 150
    min_margin_db: Decimal = Decimal("1.0")
    email_domain: str = "chesapeake-fiber.example"
    windows: tuple[Window, ...] = WINDOWS
    sla_hours: dict[TicketPriority, tuple[int, int]] = field(
        default_factory=lambda: dict(DEFAULT_SLA_HOURS)
    )


def _wiring(app: Fiberdesk | UowFactory) -> tuple[UowFactory, Engine, DemoRules]:
    if isinstance(app, Fiberdesk):
        s = app.settings
        # the scheduling settings' windows, where this version of the settings has them
        windows = getattr(s, "install_windows", None)
        rules = DemoRules(
            max_drop_m=s.max_drop_m,
            standard_drop_m=s.standard_drop_m,
            min_margin_db=Decimal(str(s.min_budget_margin_db)),
            email_domain=s.support_email.rpartition("@")[2] or DemoRules.email_domain,
            windows=parse_windows(windows) if isinstance(windows, str) else WINDOWS,
            sla_hours=parse_sla(s.ticket_sla_hours),
        )
        return app.uow, app.engine, rules
    with app() as uow:
        engine = uow.session.get_bind().engine
    return app, engine, DemoRules()


def build_demo(
    app: Fiberdesk | UowFactory,
    *,
    today: date,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    premises_limit: int | None = None,
    force: bool = False,
    actor: Actor = SYSTEM_ACTOR,
    progress: Progress | None = None,
) -> DemoSummary:
    """Build the demo operator as ``actor`` (an administrator).

    A database with any operator data (anything but the catalog the migrations seed) is
    refused with ``Conflict`` and left as it is, unless ``force``, which first deletes every
    row of every table but the catalog. ``today`` anchors every date (the CLI passes the real
    date); ``premises_limit`` keeps only that many premises, the nearest to downtown Towson,
    for a smaller operator. Everything is planned before anything is written, so bad sizes
    are refused with nothing changed."""
    started = time.perf_counter()
    actor.require(Permission.ADMIN)

    def report(phase: str, done: int, total: int) -> None:
        if progress is not None:
            progress(phase, done, total)

    factory, engine, rules = _wiring(app)
    migrate.require_migrated(engine)
    if not MIN_CUSTOMERS <= customers <= MAX_CUSTOMERS:
        raise InvalidInput(
            f"customers must be between {MIN_CUSTOMERS} and {MAX_CUSTOMERS}", field="customers"
        )
    if not force:
        with factory() as uow:
            database.refuse_if_not_empty(uow.session)

    report("planning", 0, 4)
    rows, sites = addresses.load_sites(premises_limit)
    net = layout.plan_network(sites, stream(seed, "network"))
    report("planning", 1, 4)
    cov = coverage.assign(sites, net, rules.max_drop_m)
    zips_by_co = _zips_by_co(sites, net, cov)
    crew = people.plan_crew(stream(seed, "crew"), people.crew_size(customers), zips_by_co)
    calendar = Calendar(crew, stream(seed, "calendar"), rules.windows)
    ctx = DemoContext(seed, today, rows, sites, net, cov, crew, calendar)
    ctx.standard_drop_m, ctx.sla_hours = rules.standard_drop_m, rules.sla_hours
    report("planning", 2, 4)
    working_today = sum(1 for c in crew if today.weekday() in c.shifts)
    ctx.lives = customer_plan.plan_lives(
        sites,
        net,
        cov,
        total=customers,
        min_margin_db=rules.min_margin_db,
        standard_drop_m=ctx.standard_drop_m,
        rng=ctx.rng("customers"),
        timeline=Timeline(today, ctx.rng("lives"), calendar),
        installing_cap=working_today,
    )
    states = customer_plan.port_states(
        ctx.lives,
        net,
        ctx.rng("ports"),
        faulty=max(3, len(net.naps) // 400),
    )
    room = stock.Stockroom(ctx)
    room.plan()
    desk = TicketDesk(ctx)
    desk.plan()
    room.add_replaced(desk.replaced)
    notes = customer_notes.plan_notes(ctx)
    report("planning", 4, 4)

    wiped = False
    if force:
        with factory() as uow:
            database.wipe(uow.session)
            uow.commit()
        wiped = True
    users, ctx.user_ids = people.create_users(
        factory,
        actor=actor,
        crew=crew,
        email_domain=rules.email_domain,
        progress=lambda done, total: report("users", done, total),
    )
    token = people.create_admin_token(factory, actor=actor)
    report("premises", 0, len(rows))
    imported = 0

    def advance(n: int) -> None:
        nonlocal imported
        imported += n
        report("premises", imported, len(rows))

    with factory() as uow:
        ctx.premises_ids = addresses.import_sites(uow, actor=actor, rows=rows, progress=advance)
    book = OrderBook(ctx)  # orders name premises by id, known once they are imported
    book.plan_installs()
    changes.plan_changes(book)

    with factory() as uow:
        session = uow.session
        steps = 9
        report("operator", 0, steps)
        network.insert_plant(session, ctx)
        report("operator", 1, steps)
        covered = network.update_premises(session, ctx)
        report("operator", 2, steps)
        ctx.plan_ids = network.catalog_plans(session)
        ctx.tech_ids = people.insert_technicians(session, crew, ctx.user_ids)
        network.insert_customers(session, ctx)
        report("operator", 3, steps)
        network.insert_nap_ports(session, ctx, states)
        report("operator", 4, steps)
        ticket_ids = desk.insert(session)
        report("operator", 5, steps)
        changes.add_repairs(book, desk.visits, ticket_ids)
        book.insert(session)
        report("operator", 6, steps)
        customer_notes.insert_notes(session, ctx, notes)
        summary_surveys = demo_surveys.insert_surveys(session, ctx)
        report("operator", 7, steps)
        assigned, addresses_total = stock.insert_ip_pools(session, ctx, room.units)
        stock.insert_equipment(session, ctx, room.units)
        registered = stock.insert_sim_onts(session, ctx)
        contracts = signup.insert_signup_records(session, ctx)
        report("operator", 8, steps)
        summary = _summary(ctx, states, book, desk, room, covered, assigned, addresses_total)
        summary.notes = len(notes)
        summary.surveys = summary_surveys
        summary.contracts, summary.registered_onts = contracts, registered
        summary.users, summary.admin_token, summary.wiped = users, token, wiped
        audit.record(
            session,
            actor=actor,
            action="demo.build",
            entity_type="demo",
            entity_id=None,
            after=summary.counts(),
        )
        uow.commit()
        report("operator", steps, steps)
    # billing accounts, three months of invoices and payments (the billing run's own work)
    demo_billing.insert_billing(
        factory, ctx, actor=actor, progress=lambda done, total: report("billing", done, total)
    )
    summary.elapsed_s = round(time.perf_counter() - started, 2)
    return summary


def _zips_by_co(
    sites: list[addresses.Site], net: layout.NetworkPlan, cov: coverage.Coverage
) -> list[list[str]]:
    """The ZIP codes each CO serves (a ZIP goes to the CO that serves most of it)."""
    votes: dict[str, Counter[int]] = {}
    for i, nap in enumerate(cov.nap):
        if nap >= 0:
            co = net.splitters[net.naps[nap].splitter].co
            votes.setdefault(sites[i].zip, Counter())[co] += 1
    out: list[list[str]] = [[] for _ in net.cos]
    for zip_code in sorted(votes):
        co = min(votes[zip_code].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        out[co].append(zip_code)
    return out


def _summary(
    ctx: DemoContext,
    states: dict[int, dict[int, customer_plan.PortState]],
    book: OrderBook,
    desk: TicketDesk,
    room: stock.Stockroom,
    covered: int,
    assigned: int,
    addresses_total: int,
) -> DemoSummary:
    net, cov, sites = ctx.net, ctx.cov, ctx.sites
    full = sum(
        1
        for ports in states.values()
        if all(p.status in (NapPortStatus.IN_USE, NapPortStatus.RESERVED) for p in ports.values())
    )
    by_status = Counter(life.status.value for life in ctx.lives)
    by_type = Counter(o.type.value for o in book.orders)
    done = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    return DemoSummary(
        seed=ctx.seed,
        today=ctx.today,
        premises=len(ctx.sites),
        covered_premises=covered,
        coverage_pct=round(100 * covered / max(1, len(ctx.sites)), 1),
        uncovered_beyond_reach=net.beyond_reach,
        uncovered_unbuilt_phase=net.unbuilt_phase,
        long_drop_premises=sum(1 for d in cov.drop_m if d > ctx.standard_drop_m),
        budget_exceeded_premises=sum(1 for i in range(len(sites)) if cov.budget_exceeded(i)),
        central_offices=len(net.cos),
        olts=len(net.olts),
        pon_ports=len(net.pons),
        xgs_pon_ports=sum(1 for p in net.pons if p.technology is PonTechnology.XGS_PON),
        splitters=len(net.splitters),
        naps=len(net.naps),
        full_naps=full,
        nap_ports=sum(len(p) for p in states.values()),
        plans=len(ctx.plan_ids),
        customers=len(ctx.lives),
        customers_by_status={s: by_status[s] for s in sorted(by_status)},
        service_orders=len(book.orders),
        orders_by_type={t: by_type[t] for t in sorted(by_type)},
        appointments=book.appointment_count,
        tickets=len(desk.tickets),
        open_tickets=sum(1 for t in desk.tickets if t.status not in done),
        outages=len(desk.outages),
        notes=0,
        technicians=len(ctx.crew),
        equipment=len(room.units),
        ip_addresses=addresses_total,
        ip_addresses_assigned=assigned,
        contracts=0,
        registered_onts=0,
        users=[],
        demo_password=DEMO_PASSWORD,
        admin_token="",
        wiped=False,
    )
