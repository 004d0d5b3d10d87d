"""Each demo customer's story in time: sign-up, survey, installation, changes, the end.

Everything is computed from ``today`` (the CLI passes the real date, tests a fixed one):
"now" is noon local time on that day. Installed customers signed up over the last fifteen
months, more of them recently; the installation lead time is mostly 3-9 days, sometimes
10-14 (a missed appointment or a full calendar adds more); suspensions, plan changes,
relocations and disconnections fall in the last six months, so every monthly KPI has data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.services.demo.calendar import Calendar, Slot, local_day, local_dt

S = ServiceStatus
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OLDEST_DAYS = 450
HISTORY_DAYS = 182
MISSED_SHARE = 0.05
CHURN_REASONS = (
    "Moving out of the service area",
    "Moving out of the service area",
    "Price: found a cheaper offer",
    "Switched to a competitor's bundle",
    "Service reliability",
    "Non-payment",
    "No longer needs home internet",
    "Business closed",
)
CANCEL_REASONS = (
    "Cancelled before installation: installation date too late",
    "Cancelled before installation: changed mind",
    "Cancelled before installation: landlord refused access",
)
SUSPENSION_REASONS = (
    "Non-payment: invoice overdue 30 days",
    "Non-payment: invoice overdue 30 days",
    "Non-payment: card declined twice",
    "Customer request: seasonal hold",
)


@dataclass(slots=True)
class Seat:
    """Where a customer is: the site (premises index), its NAP, and a unit in an MDU."""

    site: int
    nap: int
    unit: str | None
    full_nap: bool


@dataclass(slots=True)
class Life:
    seat: Seat
    status: ServiceStatus
    name: str
    email: str
    phone: str
    plan: str
    first_plan: str
    business: bool
    survey: bool
    created_at: datetime = EPOCH
    survey_slot: Slot | None = None
    missed_slot: Slot | None = None
    install_slot: Slot | None = None
    activated_at: datetime | None = None
    cancelled: bool = False
    notice_at: datetime | None = None
    disconnected_at: datetime | None = None
    churn_reason: str | None = None
    suspended_at: datetime | None = None
    suspension_reason: str | None = None
    past_suspension: tuple[datetime, datetime] | None = None
    plan_change_at: datetime | None = None
    relocation_to: int | None = None
    #: the NAP (index) serving the new address, and the port held there for the move
    relocation_nap: int | None = None
    relocation_port: int | None = None
    relocation_at: datetime | None = None
    relocation_slot: Slot | None = None
    moved_from: int | None = None
    moved_slot: Slot | None = None
    port: int | None = None
    last_port: int | None = None
    account: str = ""
    access_notes: str | None = None
    #: sign-up: the contract term, how identity was checked, the credit score, the channel
    term: str = "M2M"
    identity: str = "OTP_SMS"
    credit_score: int = 700
    channel: str = "phone"

    @property
    def billing_start(self) -> date | None:
        """Billing starts on the (local) day of activation."""
        return None if self.activated_at is None else local_day(self.activated_at)


class Timeline:
    def __init__(self, today: date, rng: random.Random, calendar: Calendar) -> None:
        self.today = today
        self.now = local_dt(today, time(12, 0))
        self.rng = rng
        self.cal = calendar

    def _day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def _moment(self, day: date, first_hour: int = 9, hours: int = 10) -> datetime:
        return local_dt(day, time(first_hour), self.rng.randrange(hours * 60))

    def _between(self, start: datetime, end: datetime) -> datetime:
        span = max(0, int((end - start).total_seconds()))
        return start + timedelta(seconds=self.rng.randrange(span + 1))

    def _recent_skew(self, lo: int, hi: int) -> int:
        """Days ago in [lo, hi], denser towards ``lo``: a growing operator."""
        return lo + int((hi - lo) * self.rng.random() ** 1.6)

    def plan(self, life: Life, zip_code: str) -> None:
        status = life.status
        if status is S.INSTALLING:
            self._installing(life, zip_code)
        elif status is S.SCHEDULED:
            self._scheduled(life, zip_code)
        elif status is S.PENDING:
            created = self._day(self.rng.randrange(0, 6))
            life.created_at = min(self._moment(created), self.now - timedelta(minutes=30))
        elif status is S.DISCONNECTED and self.rng.random() < 0.15:
            self._cancelled(life, zip_code)
        else:
            self._installed(life, zip_code)

    def _skill(self, life: Life) -> str:
        return "business" if life.business else "install"

    def _install(self, life: Life, zip_code: str, created_day: date) -> Slot | None:
        lead = self.rng.randint(3, 9) if self.rng.random() < 0.8 else self.rng.randint(10, 14)
        earliest = created_day + timedelta(days=lead)
        if life.survey:
            survey_day = created_day + timedelta(days=self.rng.randint(1, 3))
            life.survey_slot = self.cal.book(survey_day, zip_code=zip_code, skill="survey")
            if life.survey_slot is not None:
                earliest = max(earliest, life.survey_slot.day + timedelta(days=2))
        if self.rng.random() < MISSED_SHARE:
            missed_day = max(created_day + timedelta(days=2), earliest - timedelta(days=4))
            life.missed_slot = self.cal.book(missed_day, zip_code=zip_code, skill="install")
            if life.missed_slot is not None:
                earliest = max(earliest, life.missed_slot.day + timedelta(days=2))
        return self.cal.book(earliest, zip_code=zip_code, skill=self._skill(life))

    def _installed(self, life: Life, zip_code: str) -> None:
        status = life.status
        lo, hi = 30, OLDEST_DAYS
        disconnect_ago = 0
        if status is S.SUSPENDED:
            lo = 60
        elif status is S.RELOCATING:
            lo = 90
        elif status is S.DISCONNECTED:
            disconnect_ago = self.rng.randint(1, HISTORY_DAYS - 2)
            lo = min(disconnect_ago + 60, OLDEST_DAYS - 1)
        created_day = self._day(self._recent_skew(lo, hi))
        life.created_at = self._moment(created_day)
        slot = self._install(life, zip_code, created_day)
        if slot is None or slot.at(0) >= self.now - timedelta(days=5):
            # the calendar had no room in time: squeeze the visit in a week after sign-up
            if slot is not None:
                self.cal.release(slot)
            slot = self.cal.overbook(created_day + timedelta(days=7))
        life.install_slot = slot
        life.activated_at = slot.at(self.rng.randrange(60, 200))
        active_from = life.activated_at + timedelta(days=20)
        if status is S.DISCONNECTED:
            ended = max(self._moment(self._day(disconnect_ago)), active_from)
            life.disconnected_at = min(ended, self.now - timedelta(hours=2))
            life.notice_at = life.disconnected_at - timedelta(days=self.rng.randint(1, 14))
            life.notice_at = max(life.notice_at, life.activated_at + timedelta(days=1))
            life.churn_reason = self.rng.choice(CHURN_REASONS)
            if not life.business and life.churn_reason == "Business closed":
                life.churn_reason = "Moving out of the service area"
        elif status is S.SUSPENDED:
            start = max(active_from, self.now - timedelta(days=75))
            life.suspended_at = self._between(start, self.now - timedelta(days=1))
            life.suspension_reason = self.rng.choice(SUSPENSION_REASONS)
        elif status is S.RELOCATING:
            life.relocation_at = self._between(
                self.now - timedelta(days=10), self.now - timedelta(hours=3)
            )
        history_start = max(active_from, self.now - timedelta(days=HISTORY_DAYS))
        history_end = life.disconnected_at or life.suspended_at or life.relocation_at or self.now
        history_end = min(history_end, self.now) - timedelta(days=5)
        if history_start < history_end and not life.business and self.rng.random() < 0.14:
            life.plan_change_at = self._between(history_start, history_end)
        if status is S.ACTIVE and history_start < history_end - timedelta(days=25):
            if self.rng.random() < 0.05:
                begin = self._between(history_start, history_end - timedelta(days=25))
                life.past_suspension = (begin, begin + timedelta(days=self.rng.randint(3, 21)))
            elif self.rng.random() < 0.02:
                moved = self._between(history_start, history_end).date()
                slot = self.cal.book(moved, zip_code=zip_code, skill="install")
                if slot is not None and slot.at(0) < self.now - timedelta(days=1):
                    life.moved_slot = slot
                elif slot is not None:
                    self.cal.release(slot)

    def _installing(self, life: Life, zip_code: str) -> None:
        created_day = self._day(self.rng.randint(4, 12))
        life.created_at = self._moment(created_day)
        if life.survey:
            life.survey_slot = self.cal.book(
                created_day + timedelta(days=1), zip_code=zip_code, skill="survey"
            )
            if life.survey_slot is not None and life.survey_slot.day >= self.today:
                self.cal.release(life.survey_slot)
                life.survey_slot = None
        life.install_slot = (
            self.cal.book(self.today, zip_code=zip_code, skill=self._skill(life), only_day=True)
            or self.cal.book(self.today, zip_code=zip_code, skill="install", only_day=True)
            or self.cal.overbook(self.today)
        )

    def _scheduled(self, life: Life, zip_code: str) -> None:
        created_day = self._day(self.rng.randint(1, 8))
        life.created_at = self._moment(created_day)
        if life.survey and created_day + timedelta(days=1) < self.today:
            life.survey_slot = self.cal.book(
                created_day + timedelta(days=1), zip_code=zip_code, skill="survey"
            )
            if life.survey_slot is not None and life.survey_slot.day >= self.today:
                self.cal.release(life.survey_slot)
                life.survey_slot = None
        earliest = max(self.today + timedelta(days=1), created_day + timedelta(days=3))
        life.install_slot = self.cal.book(earliest, zip_code=zip_code, skill=self._skill(life))

    def _cancelled(self, life: Life, zip_code: str) -> None:
        created_day = self._day(self.rng.randint(20, HISTORY_DAYS - 10))
        life.created_at = self._moment(created_day)
        life.cancelled = True
        slot = self.cal.book(
            created_day + timedelta(days=self.rng.randint(4, 9)),
            zip_code=zip_code,
            skill="install",
        )
        life.install_slot = slot
        if slot is not None:
            self.cal.release(slot)  # the appointment was cancelled with the order
        last = slot.at(0) if slot is not None else life.created_at + timedelta(days=6)
        life.disconnected_at = self._between(life.created_at + timedelta(hours=20), last)
        life.notice_at = life.disconnected_at
        life.churn_reason = self.rng.choice(CANCEL_REASONS)
