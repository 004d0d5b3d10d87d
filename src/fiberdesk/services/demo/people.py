"""Staff users (one per role), technicians with shifts, skills and zones, the admin token."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

from sqlalchemy.orm import Session

from fiberdesk.db.models import Technician, TechnicianShift
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.users import Actor, Role
from fiberdesk.services import auth
from fiberdesk.services.demo import names
from fiberdesk.services.demo.calendar import Crew
from fiberdesk.services.demo.database import insert_all, insert_ids

#: every demo user's password; for the demo only, never for a real operator
DEMO_PASSWORD = "fiberdesk-demo"

STAFF: tuple[tuple[str, str, Role], ...] = (
    ("admin", "Dana Whitfield", Role.ADMIN),
    ("supervisor", "Marcus Greene", Role.SUPERVISOR),
    ("csr", "Priya Natarajan", Role.CSR),
    ("dispatcher", "Luis Ortega", Role.DISPATCHER),
    ("noc", "Hannah Kowalski", Role.NOC),
    ("billing", "Grace Osei", Role.BILLING),
)
SHIFT_HOURS = (time(8, 0), time(17, 0))
#: weekly patterns: most work Monday to Friday, some Tuesday to Saturday, a few Wednesday
#: to Sunday so that some technician works on every day of the week
SHIFT_PATTERNS = ((0, 1, 2, 3, 4),) * 4 + ((1, 2, 3, 4, 5), (2, 3, 4, 5, 6))
FLOATERS = 2
ALL_SKILLS = ["install", "repair", "splicing", "survey", "business"]


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    full_name: str
    role: str


def crew_size(customers: int) -> int:
    return min(24, max(12, customers // 200))


def plan_crew(rng: random.Random, size: int, zips_by_co: list[list[str]]) -> list[Crew]:
    """Technicians, shared among the COs by how many ZIPs each serves; two floaters."""
    all_zips = sorted({z for zips in zips_by_co for z in zips})
    weights = [len(z) for z in zips_by_co]
    local = size - FLOATERS
    shares = [local * w // max(1, sum(weights)) for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    for k in range(local - sum(shares)):
        shares[order[k % len(order)]] += 1
    homes = [co for co, n in enumerate(shares) for _ in range(n)]
    crew: list[Crew] = []
    usernames: Counter[str] = Counter()
    contacts = names.Contacts(rng)
    for i in range(size):
        given, surname = names.person(rng)
        base = f"tech.{names.slug(given)}.{names.slug(surname)}"
        usernames[base] += 1
        username = base if usernames[base] == 1 else f"{base}{usernames[base]}"
        floater = i >= local
        skills = ["install", "repair"]
        if i % 3 == 0:
            skills.append("survey")
        if i % 4 == 1:
            skills.append("splicing")
        if i % 5 == 2:
            skills.append("business")
        pattern = SHIFT_PATTERNS[i % len(SHIFT_PATTERNS)]
        crew.append(
            Crew(
                name=f"{given} {surname}",
                username=username,
                phone=contacts.phone(),
                skills=list(ALL_SKILLS) if floater else skills,
                zones=all_zips if floater or not zips_by_co[homes[i]] else zips_by_co[homes[i]],
                shifts=dict.fromkeys(pattern, SHIFT_HOURS),
            )
        )
    return crew


def create_users(
    factory: Callable[[], UnitOfWork],
    *,
    actor: Actor,
    crew: list[Crew],
    email_domain: str,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[DemoUser], dict[str, int]]:
    """Staff and technician users through ``services.auth`` (one transaction each)."""
    people = [(u, n, r) for u, n, r in STAFF] + [
        (c.username, c.name, Role.TECHNICIAN) for c in crew
    ]
    users: list[DemoUser] = []
    ids: dict[str, int] = {}
    for done, (username, full_name, role) in enumerate(people, start=1):
        with factory() as uow:
            view = auth.create_user(
                uow,
                actor=actor,
                username=username,
                full_name=full_name,
                role=role,
                password=DEMO_PASSWORD,
                email=f"{username}@{email_domain}",
            )
        users.append(DemoUser(view.username, view.full_name, view.role.value))
        ids[view.username] = view.id
        if progress:
            progress(done, len(people))
    return users, ids


def create_admin_token(factory: Callable[[], UnitOfWork], *, actor: Actor) -> str:
    with factory() as uow:
        token = auth.create_token(uow, actor=actor, username="admin", name="demo quick start")
    return token.secret


def insert_technicians(session: Session, crew: list[Crew], user_ids: dict[str, int]) -> list[int]:
    ids = insert_ids(
        session,
        Technician,
        [
            {
                "user_id": user_ids.get(c.username),
                "name": c.name,
                "phone": c.phone,
                "skills": c.skills,
                "zones": c.zones,
                "capacity_per_window": c.capacity_per_window,
                "active": True,
            }
            for c in crew
        ],
    )
    insert_all(
        session,
        TechnicianShift,
        [
            {"technician_id": tech_id, "weekday": day, "start": start, "end": end}
            for tech_id, c in zip(ids, crew, strict=True)
            for day, (start, end) in sorted(c.shifts.items())
        ],
    )
    return ids
