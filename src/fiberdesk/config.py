"""Settings, read from ``FIBERDESK_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FIBERDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    #: SQLAlchemy URL; a SQLite file by default, or postgresql+psycopg://user@host/db
    database_url: str = "sqlite:///fiberdesk.db"
    host: str = "127.0.0.1"
    port: int = 8000
    #: signs sessions, CSRF tokens and links; set your own in production
    secret_key: str = Field(default="change-me-in-production", min_length=8)
    #: log SQL statements
    echo_sql: bool = False
    #: requests that may run their database work at once in one server process (the
    #: rest wait their turn on the event loop): more threads than this only contend for
    #: Python's lock, which costs CPU and latency (see docs/performance.md)
    request_threads: int = Field(default=8, ge=1, le=200)
    #: requests of the busiest read-only lookups (qualification and global search) that may
    #: run at once in one server process, on threads of their own: their work is Python's,
    #: and two threads (one computing, one waiting for the database) answer faster than
    #: more (see docs/performance.md)
    lookup_threads: int = Field(default=2, ge=1, le=64)

    # console sign-in
    #: a console session ends after this long without a request
    session_idle_minutes: int = Field(default=120, ge=5)
    #: and after this long in any case
    session_max_hours: int = Field(default=12, ge=1)

    # operator branding, used in messages and pages
    company_name: str = "Chesapeake Fiber"
    support_phone: str = "+1 410 555 0100"
    support_email: str = "support@chesapeake-fiber.example"
    currency: str = "USD"

    # qualification
    max_drop_m: int = 250
    standard_drop_m: int = 150
    min_budget_margin_db: float = 1.0
    port_hold_minutes: int = 60 * 24 * 3
    #: a PON port stops selling a tier when its sold peak would pass this multiple of
    #: its downstream capacity
    oversubscription_limit: float = 12.0

    # quotes
    #: sales tax on service and fees, as a fraction (0.06 = 6 %); 0 where none applies
    tax_rate: Decimal = Decimal("0.06")
    quote_valid_days: int = 30

    # sign-up
    credit_approve_at: int = 650
    credit_deposit_at: int = 550
    credit_deposit: Decimal = Decimal("100.00")
    one_time_code_minutes: int = 10

    # scheduling: installation windows as CODE=HH:MM-HH:MM, comma-separated
    install_windows: str = "AM=08:00-12:00,PM=12:00-17:00"
    #: how far ahead windows are offered, days
    scheduling_horizon_days: int = 28
    lead_time_target_days: int = 7
    lead_time_alert_days: int = 10

    # activation: the wired speed test must reach this share of the plan's speeds
    speed_test_min_share: float = 0.9

    # outside systems: which implementation to use (the fakes are the embedded defaults)
    network_adapter: str = "simulated"
    payment_gateway: str = "fake"
    credit_bureau: str = "fake"

    # billing
    invoice_due_days: int = 15
    #: monthly fee while on a vacation hold, instead of the plan's price
    vacation_hold_fee: Decimal = Decimal("10.00")
    vacation_hold_max_days: int = 90
    #: days past due for each payment reminder, comma-separated
    dunning_reminder_days: str = "3,10"
    dunning_suspend_days: int = 20
    dunning_collections_days: int = 50
    equipment_return_days: int = 30
    ont_non_return_fee: Decimal = Decimal("150.00")
    router_non_return_fee: Decimal = Decimal("100.00")

    # outages: an element is dark when at least max(min_onts, min_share of its ONTs) lose
    # signal within the window; a PON port or OLT needs min_children dark children
    outage_window_minutes: float = 5
    outage_min_share: float = 0.6
    outage_min_onts: int = 3
    outage_min_children: int = 2
    outage_lookback_hours: float = 24
    #: estimated resolution by kind (and scope), hours
    outage_eta_hours: str = "FIBER=4,POWER=2,FIBER:PON_PORT=6,FIBER:OLT=8"
    #: resolve an outage (and tell its customers) once all its alarms have cleared
    outage_auto_resolve: bool = True

    # tickets: resolution target and alert, hours, per priority
    ticket_sla_hours: str = "CRITICAL=4/8,HIGH=12/24,NORMAL=24/48,LOW=72/120"

    # KPIs and surveys: "csat=4.6/4.2,churn=1.5/2.5" overrides a metric's target/alert
    kpi_thresholds: str = ""
    kpi_alert_window_days: int = 30
    #: the worker checks the KPIs against their alert thresholds this often; 0 turns it off
    kpi_alert_check_minutes: float = Field(default=15.0, ge=0)
    survey_link_days: int = 14
    #: the address customers' links point at; empty means http://{host}:{port}
    public_base_url: str = ""

    # public pages
    public_rate_limit_per_minute: int = 30


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
