"""Installation windows and shifts: which windows a technician can work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from fiberdesk.domain.errors import InvalidInput

_WINDOW = re.compile(r"^([A-Z0-9_]{1,16})=(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class Window:
    code: str
    start: time
    end: time

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def within(self, shift_start: time, shift_end: time) -> bool:
        return shift_start <= self.start and self.end <= shift_end


def parse_windows(spec: str) -> tuple[Window, ...]:
    """``"AM=08:00-12:00,PM=12:00-17:00"`` to windows, in the order given."""
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
        windows.append(Window(m.group(1), start, end))
    if len({w.code for w in windows}) != len(windows):
        raise InvalidInput("installation window codes must differ")
    return tuple(windows)
