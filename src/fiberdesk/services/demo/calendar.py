"""Technicians' calendars: shifts, appointment windows, and slots booked once each.

Times of day are the operator's local time; stored datetimes are UTC. The demo takes the
operator to be on US Eastern standard time (UTC-5) all year, which is close enough for
appointments that are only ever shown by window.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from fiberdesk.domain.errors import InvalidInput

Window = tuple[str, time, time]
#: the booking windows (code, start, end) in local time, as the default settings have them
WINDOWS: tuple[Window, ...] = (
    ("AM", time(8, 0), time(12, 0)),
    ("PM", time(12, 0), time(17, 0)),
)
_WINDOW = re.compile(r"^([A-Z0-9_]+)=(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
LOCAL_UTC_OFFSET = timedelta(hours=-5)
#: how far ahead a booking may look before it gives up on the technician's zone
ZONE_SEARCH_DAYS = 21
SEARCH_DAYS = 120


def local_dt(day: date, at: time, minutes: int = 0) -> datetime:
    """A UTC datetime for a local day and time of day, plus some minutes."""
    naive = datetime.combine(day, at) + timedelta(minutes=minutes)
    return (naive - LOCAL_UTC_OFFSET).replace(tzinfo=UTC)


def local_day(at: datetime) -> date:
    return (at.astimezone(UTC) + LOCAL_UTC_OFFSET).date()


@dataclass(slots=True)
class Crew:
    """A technician as the calendar sees them (index = position in the crew list)."""

    name: str
    username: str
    phone: str
    skills: list[str]
    zones: list[str]
    #: weekday (Monday 0) -> (start, end)
    shifts: dict[int, tuple[time, time]]
    capacity_per_window: int = 1


def parse_windows(spec: str) -> tuple[Window, ...]:
    """Windows from the settings' form ``"AM=08:00-12:00,PM=12:00-17:00"``."""
    windows = []
    for part in spec.split(","):
        m = _WINDOW.match(part.strip().upper())
        if not m:
            raise InvalidInput(f"installation window {part!r} is not CODE=HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in m.groups()[1:])
        try:
            start, end = time(h1, m1), time(h2, m2)
        except ValueError:
            raise InvalidInput(f"installation window {part!r} has an impossible time") from None
        if start >= end:
            raise InvalidInput(f"installation window {part!r} ends before it starts")
        windows.append((m.group(1), start, end))
    return tuple(windows)


@dataclass(frozen=True, slots=True)
class Slot:
    tech: int
    day: date
    code: str
    start: time
    end: time

    def at(self, minutes: int) -> datetime:
        """A moment ``minutes`` after the window opens, in UTC."""
        return local_dt(self.day, self.start, minutes)


@dataclass
class Calendar:
    crew: list[Crew]
    rng: random.Random
    windows: tuple[Window, ...] = WINDOWS
    booked: dict[tuple[int, date, str], int] = field(default_factory=dict)

    def _works(self, tech: int, day: date, window: Window) -> bool:
        shift = self.crew[tech].shifts.get(day.weekday())
        return shift is not None and shift[0] <= window[1] and window[2] <= shift[1]

    def free(self, tech: int, day: date, window: Window) -> bool:
        used = self.booked.get((tech, day, window[0]), 0)
        return self._works(tech, day, window) and used < self.crew[tech].capacity_per_window

    def take(self, slot: Slot) -> Slot:
        key = (slot.tech, slot.day, slot.code)
        self.booked[key] = self.booked.get(key, 0) + 1
        return slot

    def book(
        self, earliest: date, *, zip_code: str, skill: str, only_day: bool = False
    ) -> Slot | None:
        """The first free slot from ``earliest`` for a technician with the skill, preferring
        those whose zones hold the ZIP; ``only_day`` keeps to that one day."""
        skilled = [i for i, c in enumerate(self.crew) if skill in c.skills]
        local = [i for i in skilled if zip_code in self.crew[i].zones]
        for pool, horizon in ((local, ZONE_SEARCH_DAYS), (skilled, SEARCH_DAYS)):
            if not pool:
                continue
            for offset in range(1 if only_day else horizon):
                day = earliest + timedelta(days=offset)
                windows = list(self.windows)
                self.rng.shuffle(windows)
                techs = list(pool)
                self.rng.shuffle(techs)
                for window in windows:
                    for tech in techs:
                        if self.free(tech, day, window):
                            return self.take(Slot(tech, day, *window))
        return None

    def release(self, slot: Slot) -> None:
        key = (slot.tech, slot.day, slot.code)
        if self.booked.get(key, 0) > 0:
            self.booked[key] -= 1

    def overbook(self, day: date) -> Slot:
        """A slot in the first window for whoever works that day, ignoring capacity (a last
        resort when the calendar is full)."""
        window = self.windows[0]
        working = [i for i in range(len(self.crew)) if self._works(i, day, window)]
        return self.take(Slot(working[0] if working else 0, day, *window))
