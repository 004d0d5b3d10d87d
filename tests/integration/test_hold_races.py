"""Many threads racing for the last ports: each port is held once, the split limit holds.

Runs on SQLite (one writer at a time) and PostgreSQL (row locks and conditional updates).
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import Nap, NapPort, PonPort, Splitter
from fiberdesk.domain.errors import Refused
from fiberdesk.domain.network import NapPortStatus
from fiberdesk.domain.users import SYSTEM_ACTOR
from fiberdesk.services import quotes
from tests.factories import make_qualification_world

RACERS = 40


def _quotes(fd: Fiberdesk, premises_id: int, n: int) -> list[str]:
    refs = []
    for _ in range(n):
        with fd.uow() as uow:
            refs.append(
                quotes.create_quote(
                    uow,
                    actor=SYSTEM_ACTOR,
                    premises_id=premises_id,
                    plan_code="BASIC",
                    settings=fd.quote_settings,
                ).reference
            )
    return refs


def _race(fd: Fiberdesk, refs: list[str]) -> list[str | None]:
    def accept(ref: str) -> str | None:
        try:
            with fd.uow() as uow:
                view = quotes.accept_quote(
                    uow, actor=SYSTEM_ACTOR, reference=ref, settings=fd.quote_settings
                )
            return f"{view.nap_code}:{view.port}"
        except Refused:
            return None

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(accept, refs))


def test_racing_for_the_last_ports_of_a_nap(fd: Fiberdesk) -> None:
    world = make_qualification_world(fd)
    refs = _quotes(fd, world.premises["serviceable"], RACERS)
    results = _race(fd, refs)
    winners = [r for r in results if r is not None]
    assert len(winners) == 7, "NAP-A has 8 ports, one in use"
    assert len(set(winners)) == 7
    with fd.uow(write=False) as uow:
        held = uow.session.execute(
            sa.select(NapPort.number, NapPort.held_by).where(
                NapPort.nap_id == world.naps["NAP-A"], NapPort.status == NapPortStatus.RESERVED
            )
        ).all()
    assert sorted(n for n, _ in held) == list(range(1, 8))
    assert Counter(h for _, h in held).most_common(1)[0][1] == 1


def test_racing_never_exceeds_the_pon_split(fd: Fiberdesk) -> None:
    world = make_qualification_world(fd)
    with fd.uow() as uow:
        pon_id = uow.session.scalar(
            sa.select(Splitter.pon_port_id)
            .join(Nap, Nap.splitter_id == Splitter.id)
            .where(Nap.id == world.naps["NAP-PONFULL"])
        )
        uow.session.execute(sa.update(PonPort).where(PonPort.id == pon_id).values(max_split=4))
        uow.commit()
    refs = _quotes(fd, world.premises["pon_full"], RACERS)
    results = _race(fd, refs)
    assert len([r for r in results if r is not None]) == 2, "4 allowed, 2 already in use"
    with fd.uow(write=False) as uow:
        taken = uow.session.scalar(
            sa.select(sa.func.count())
            .select_from(NapPort)
            .where(
                NapPort.nap_id == world.naps["NAP-PONFULL"], NapPort.status != NapPortStatus.FREE
            )
        )
    assert taken == 4
