"""The one place that builds the application: settings, database and concrete adapters."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from fiberdesk.adapters.credit.base import CreditBureau
from fiberdesk.adapters.network.base import NetworkAdapter
from fiberdesk.adapters.payments.base import PaymentGateway
from fiberdesk.config import Settings, get_settings
from fiberdesk.db.engine import make_engine, make_session_factory
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.billing import DunningPolicy
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.qualification import QualificationRules
from fiberdesk.domain.scheduling import parse_windows
from fiberdesk.domain.signup import CreditPolicy
from fiberdesk.domain.tickets import parse_sla
from fiberdesk.services.billing import BillingSettings
from fiberdesk.services.disconnect import ReturnSettings
from fiberdesk.services.holds import HoldSettings
from fiberdesk.services.kpis import KpiSettings, kpi_settings_from
from fiberdesk.services.quotes import QuoteSettings
from fiberdesk.services.scheduling import SchedulingSettings
from fiberdesk.services.tickets import TicketSettings


@dataclass
class Fiberdesk:
    """What every entry point needs: settings, the database, and the adapters."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    network: NetworkAdapter
    gateway: PaymentGateway
    bureau: CreditBureau

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

    @property
    def scheduling(self) -> SchedulingSettings:
        s = self.settings
        return SchedulingSettings(
            windows=parse_windows(s.install_windows),
            horizon_days=s.scheduling_horizon_days,
            lead_time_target_days=s.lead_time_target_days,
            lead_time_alert_days=s.lead_time_alert_days,
            company_name=s.company_name,
            support_phone=s.support_phone,
        )

    @property
    def credit_policy(self) -> CreditPolicy:
        s = self.settings
        return CreditPolicy(
            approve_at=s.credit_approve_at, deposit_at=s.credit_deposit_at, deposit=s.credit_deposit
        )

    @property
    def ticket_settings(self) -> TicketSettings:
        s = self.settings
        return TicketSettings(
            sla_hours=parse_sla(s.ticket_sla_hours),
            company_name=s.company_name,
            support_phone=s.support_phone,
            surveys=self.kpi_settings,
            secret_key=s.secret_key,
            base_url=self.kpi_settings.base_url,
        )

    @property
    def billing_settings(self) -> BillingSettings:
        s = self.settings
        return BillingSettings(
            tax_rate=s.tax_rate,
            due_days=s.invoice_due_days,
            vacation_fee=s.vacation_hold_fee,
            currency=s.currency,
        )

    @property
    def hold_settings(self) -> HoldSettings:
        s = self.settings
        return HoldSettings(
            max_vacation_days=s.vacation_hold_max_days,
            vacation_fee=s.vacation_hold_fee,
            company_name=s.company_name,
            support_phone=s.support_phone,
        )

    @property
    def dunning(self) -> DunningPolicy:
        s = self.settings
        days = tuple(int(d) for d in s.dunning_reminder_days.split(",") if d.strip())
        return DunningPolicy(
            reminder_days=days,
            suspend_at=s.dunning_suspend_days,
            collections_at=s.dunning_collections_days,
        )

    @property
    def return_settings(self) -> ReturnSettings:
        s = self.settings
        return ReturnSettings(
            days_to_return=s.equipment_return_days,
            ont_fee=s.ont_non_return_fee,
            router_fee=s.router_non_return_fee,
            tax_rate=s.tax_rate,
            company_name=s.company_name,
            support_phone=s.support_phone,
        )

    @property
    def kpi_settings(self) -> KpiSettings:
        return kpi_settings_from(self.settings)

    def close(self) -> None:
        self.engine.dispose()


def _network(settings: Settings, sessions: sessionmaker[Session]) -> NetworkAdapter:
    if settings.network_adapter == "simulated":
        from fiberdesk.adapters.network.simulated import SimulatedOlt

        return SimulatedOlt(sessions)
    raise InvalidInput(f"unknown network adapter {settings.network_adapter!r} (known: simulated)")


def _gateway(settings: Settings, sessions: sessionmaker[Session]) -> PaymentGateway:
    if settings.payment_gateway == "fake":
        from fiberdesk.adapters.payments.fake import FakeGateway

        return FakeGateway(sessions)
    raise InvalidInput(f"unknown payment gateway {settings.payment_gateway!r} (known: fake)")


def _bureau(settings: Settings) -> CreditBureau:
    if settings.credit_bureau == "fake":
        from fiberdesk.adapters.credit.fake import FakeBureau

        return FakeBureau()
    raise InvalidInput(f"unknown credit bureau {settings.credit_bureau!r} (known: fake)")


def build(settings: Settings | None = None) -> Fiberdesk:
    """Wire the application: the one place that picks concrete adapters."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, echo=settings.echo_sql)
    sessions = make_session_factory(engine)
    return Fiberdesk(
        settings=settings,
        engine=engine,
        session_factory=sessions,
        network=_network(settings, sessions),
        gateway=_gateway(settings, sessions),
        bureau=_bureau(settings),
    )
