"""The fake SMS gateway (the default): records each text in the ``fake_sms`` table instead of
sending it, so that every process sees the same log and it survives restarts.

Like a real gateway with an idempotency key, a second send with the same key records
nothing and reports the first one. A number that is not in E.164 form (``+`` and 8 to 15
digits) is refused permanently, as a real gateway would.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fiberdesk.adapters.notifications.base import RejectedError
from fiberdesk.db.models import FakeSms
from fiberdesk.db.unit_of_work import UnitOfWork

_E164 = re.compile(r"\+[1-9][0-9]{7,14}")


class FakeSmsSender:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def send(self, to: str, body: str, key: str) -> str:
        if not _E164.fullmatch(to):
            raise RejectedError(f"not a phone number in E.164 form: {to!r}")
        with UnitOfWork(self._sessions) as uow:
            first = uow.session.scalar(sa.select(FakeSms.id).where(FakeSms.key == key))
            if first is not None:
                return f"already recorded as fake SMS {first}"
            row = FakeSms(to=to, body=body, key=key)
            uow.session.add(row)
            try:
                uow.flush()
                uow.commit()
            except IntegrityError:  # the same key, recorded by another process just now
                return "already recorded"
            return f"recorded as fake SMS {row.id}"

    def sent(self, to: str | None = None) -> list[FakeSms]:
        """What the fake has 'sent', oldest first (to one number, or to everyone)."""
        query = sa.select(FakeSms).order_by(FakeSms.id)
        if to is not None:
            query = query.where(FakeSms.to == to)
        with UnitOfWork(self._sessions, write=False) as uow:
            return list(uow.session.scalars(query))
