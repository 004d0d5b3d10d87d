"""The one place that builds the application: settings, database and concrete adapters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from fiberdesk.config import Settings, get_settings
from fiberdesk.db.engine import make_engine, make_session_factory
from fiberdesk.db.unit_of_work import UnitOfWork


@dataclass
class Fiberdesk:
    """What every entry point needs: settings, the database, and the adapters."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    def uow(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.session_factory, write=write)

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None) -> Fiberdesk:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, echo=settings.echo_sql)
    return Fiberdesk(settings=settings, engine=engine, session_factory=make_session_factory(engine))
