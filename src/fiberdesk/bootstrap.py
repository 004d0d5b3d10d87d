"""The one place that builds the application: settings, database and concrete adapters."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from fiberdesk.config import Settings, get_settings
from fiberdesk.db.engine import make_engine, make_session_factory
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.qualification import QualificationRules
from fiberdesk.services.quotes import QuoteSettings


@dataclass
class Fiberdesk:
    """What every entry point needs: settings, the database, and the adapters."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    def uow(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.session_factory, write=write)

    @property
    def rules(self) -> QualificationRules:
        s = self.settings
        return QualificationRules(
            max_drop_m=s.max_drop_m,
            standard_drop_m=s.standard_drop_m,
            min_margin_db=Decimal(str(s.min_budget_margin_db)),
            oversubscription_limit=Decimal(str(s.oversubscription_limit)),
        )

    @property
    def quote_settings(self) -> QuoteSettings:
        s = self.settings
        return QuoteSettings(
            rules=self.rules,
            tax_rate=s.tax_rate,
            valid_days=s.quote_valid_days,
            hold_minutes=s.port_hold_minutes,
            currency=s.currency,
        )

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None) -> Fiberdesk:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, echo=settings.echo_sql)
    return Fiberdesk(settings=settings, engine=engine, session_factory=make_session_factory(engine))
