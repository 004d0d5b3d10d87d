"""Matching typed addresses to premises: parse, find the street (typos allowed), rank.

Street names are resolved in memory against the distinct names of the premises table
(a few thousand even for a million premises), with up to two typos; the premises
themselves are then read by street and house number through an index. The street list is
cached per process and reloaded when premises are added.
"""

from __future__ import annotations

import heapq
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from fiberdesk.db.models import Customer, Premises
from fiberdesk.db.models.customers import occupying
from fiberdesk.db.models.premises import address_label
from fiberdesk.db.statements import ByCount
from fiberdesk.domain.address import ParsedAddress, parse_address
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.network import distance_m
from fiberdesk.domain.qualification import MatchStatus

#: a match at or above this confidence, clear of the runner-up, is taken as the address
MATCH_THRESHOLD = 0.80
#: candidates closer than this to the best make the answer ambiguous
AMBIGUITY_GAP = 0.05
MAX_CANDIDATES = 5
#: some sources keep a leading directional in the name ("WEST LIBERTY RD")
_DIRECTION_WORDS = {
    "N": "NORTH",
    "S": "SOUTH",
    "E": "EAST",
    "W": "WEST",
    "NE": "NORTHEAST",
    "NW": "NORTHWEST",
    "SE": "SOUTHEAST",
    "SW": "SOUTHWEST",
}


@dataclass(frozen=True, slots=True)
class Candidate:
    premises_id: int
    source_id: str
    label: str
    confidence: float
    nap_id: int | None
    lat: float
    lon: float
    distance_m: float | None = None


@dataclass(frozen=True, slots=True)
class MatchResult:
    status: MatchStatus
    message: str
    parsed: ParsedAddress | None
    best: Candidate | None
    candidates: list[Candidate] = field(default_factory=list)


class _StreetNames:
    """The distinct street names of the premises table, reloaded when premises change.

    Whether they changed is asked of the database (the highest premises id) at most once
    every ``RECHECK_S`` per engine, not on every match; ``clear()`` (called by an import)
    makes the next match reload at once.
    """

    RECHECK_S = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: engine -> (marker, names, when the marker was last checked); weak, so that a
        #: disposed engine's names go with it and a new engine never inherits them
        self._by_engine: weakref.WeakKeyDictionary[Engine, tuple[int | None, list[str], float]]
        self._by_engine = weakref.WeakKeyDictionary()

    def clear(self) -> None:
        with self._lock:
            self._by_engine.clear()

    def get(self, session: Session) -> list[str]:
        engine = session.get_bind()
        assert isinstance(engine, Engine | sa.Connection)
        key = engine.engine if isinstance(engine, sa.Connection) else engine
        cached = self._by_engine.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[2] < self.RECHECK_S:
            return cached[1]
        marker = session.scalar(sa.select(sa.func.max(Premises.id)))
        if cached is not None and cached[0] == marker:
            self._by_engine[key] = (marker, cached[1], now)
            return cached[1]
        with self._lock:
            names = sorted(session.scalars(sa.select(Premises.street_name).distinct()))
            self._by_engine[key] = (marker, names, now)
            return names


STREET_NAMES = _StreetNames()


class _Similar:
    """``_similar_names`` remembered per street-name list: the names are read again when
    premises change (a new list), and typed streets repeat all day. Names are also kept
    by length, since only names of a similar length can be two edits or 80 % alike."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self._state = _SimilarState([], {})

    def __call__(self, name: str, names: list[str]) -> dict[str, float]:
        state = self._state  # one consistent state per call, whatever other threads do
        if names is not state.names:
            by_length: dict[int, list[str]] = {}
            for known in names:  # sorted: each bucket keeps the list's order
                by_length.setdefault(len(known), []).append(known)
            state = self._state = _SimilarState(names, by_length)
        found = state.found.get(name)
        if found is None:
            found = _similar_names(name, state.near(len(name)))
            if len(state.found) >= self.LIMIT:
                state.found.clear()
            state.found[name] = found
        return dict(found)


@dataclass
class _SimilarState:
    names: list[str]
    by_length: dict[int, list[str]]
    near_length: dict[int, list[str]] = field(default_factory=dict)
    found: dict[str, dict[str, float]] = field(default_factory=dict)

    def near(self, length: int) -> list[str]:
        """The names that can match one of ``length`` letters, in the list's order (the
        order breaks ties between equal scores)."""
        picked = self.near_length.get(length)
        if picked is None:
            # two edits change the length by two at most; an Indel ratio of 80 % needs the
            # shorter name to be at least two thirds as long as the longer
            low = min(length - 2, -(-2 * length // 3))
            high = max(length + 2, 3 * length // 2)
            sizes = range(max(1, low), high + 1)
            picked = sorted(n for size in sizes for n in self.by_length.get(size, ()))
            self.near_length[length] = picked
        return picked


SIMILAR = _Similar()


def _similar_names(name: str, names: list[str]) -> dict[str, float]:
    """Street names within two typos (one for short names; a swap of two letters is one
    typo) or 80 % alike, with a 0..1 similarity."""
    max_edits = 1 if len(name) <= 4 else 2
    found: dict[str, float] = {}
    for candidate, _dist, _i in process.extract(
        name, names, scorer=OSA.distance, score_cutoff=max_edits, limit=20
    ):
        found[candidate] = fuzz.ratio(name, candidate) / 100
    for candidate, score, _i in process.extract(
        name, names, scorer=fuzz.ratio, score_cutoff=80, limit=10
    ):
        found[candidate] = max(found.get(candidate, 0.0), score / 100)
    return found


def _part(given: str | None, actual: str | None, *, absent: float) -> float:
    if not given:
        return absent
    return 1.0 if given == (actual or None) else 0.0


def _served_account() -> Any:
    """The account of a customer with service (or service coming) at the premises, if any."""
    return (
        sa.select(Customer.account_number)
        .where(Customer.premises_id == Premises.id, occupying())
        .limit(1)
        .correlate(Premises)
        .scalar_subquery()
        .label("served_account")
    )


#: the columns of a premises that matching scores and answers with, and that qualification
#: goes on with (whether it is a multi-dwelling building, and who has service there)
COLUMNS = (
    Premises.id,
    Premises.source_id,
    Premises.number,
    Premises.number_suffix,
    Premises.predir,
    Premises.street_name,
    Premises.street_type,
    Premises.sufdir,
    Premises.street,
    Premises.unit,
    Premises.city,
    Premises.community,
    Premises.state,
    Premises.zip,
    Premises.lat,
    Premises.lon,
    Premises.nap_id,
    Premises.multi_dwelling,
    _served_account(),
)
#: the premises with a house number on any of a few streets
_NUMBERED = ByCount(
    lambda streets: sa.select(*COLUMNS).where(
        Premises.street_name.in_(streets), Premises.number == sa.bindparam("number")
    ),
    prefix="s",
)


def _place_score(parsed: ParsedAddress, row: Any) -> float:
    if not parsed.city:
        return 0.6
    scores = [fuzz.ratio(parsed.city, p) / 100 for p in (row.city, row.community) if p]
    return max(scores, default=0.0)


def score(parsed: ParsedAddress, row: Any, name_score: float) -> float:
    """How well a premises (or a row of its columns) fits a parsed address, 0..1 (1: every
    given part agrees)."""
    directional = 1.0
    word = _DIRECTION_WORDS.get(parsed.predir or "")
    if word and not row.predir and row.street_name.startswith(word + " "):
        pass  # the directional is part of the name in the source: it agrees
    elif parsed.predir or row.predir:
        directional = 0.7 if not parsed.predir else _part(parsed.predir, row.predir, absent=0.7)
    if parsed.sufdir and parsed.sufdir != row.sufdir:
        directional = 0.0
    suffix = 1.0 if (parsed.number_suffix or None) == (row.number_suffix or None) else 0.3
    return round(
        0.45 * name_score
        + 0.10 * _part(parsed.street_type, row.street_type, absent=0.5)
        + 0.10 * directional
        + 0.15 * _part(parsed.zip, row.zip, absent=0.6)
        + 0.10 * _place_score(parsed, row)
        + 0.10 * suffix,
        3,
    )


def as_candidate(row: Any, confidence: float, distance: float | None = None) -> Candidate:
    """A premises, or a row of its columns, as a candidate."""
    return Candidate(
        premises_id=row.id,
        source_id=row.source_id,
        label=address_label(row),
        confidence=confidence,
        nap_id=row.nap_id,
        lat=row.lat,
        lon=row.lon,
        distance_m=None if distance is None else round(distance, 1),
    )


def _distinct_labels(ranked: list[Candidate]) -> list[Candidate]:
    """One candidate per written address: some buildings carry several points."""
    seen: set[str] = set()
    distinct = []
    for c in ranked:
        if c.label not in seen:
            seen.add(c.label)
            distinct.append(c)
    return distinct


def _number_key(number: str) -> int:
    if number.isascii() and number.isdigit():
        return int(number)
    digits = "".join(ch for ch in number if ch.isdigit())
    return int(digits) if digits else 0


def _nearest_numbers(
    session: Session, parsed: ParsedAddress, names: dict[str, float]
) -> list[Candidate]:
    """Premises on the best-matching street(s) whose house numbers are nearest (ties: the
    lower number, then the lower premises id)."""
    best = [n for n, _ in sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
    on_streets: list[sa.ColumnElement[bool]] = [Premises.street_name.in_(best)]
    if parsed.zip:
        on_streets.append(Premises.zip == parsed.zip)
    # the distinct numbers come from the (street_name, number) index alone
    conn = session.connection()
    numbers = conn.execute(sa.select(Premises.number).where(*on_streets).distinct()).scalars()
    target = _number_key(parsed.number or "0")

    def distance(number: str) -> tuple[int, int, str]:
        key = _number_key(number)
        return abs(key - target), key, number

    nearest = heapq.nsmallest(MAX_CANDIDATES, numbers, key=distance)
    if not nearest:
        return []
    rows = sorted(
        conn.execute(sa.select(*COLUMNS).where(*on_streets, Premises.number.in_(nearest))),
        key=lambda r: (distance(r.number), r.id),
    )
    # never confident: the number asked for does not exist
    return [
        as_candidate(r, round(min(0.5, score(parsed, r, names[r.street_name]) - 0.3), 3))
        for r in rows[:MAX_CANDIDATES]
    ]


def match_address(session: Session, text: str) -> MatchResult:
    """Match free text to premises. Raises InvalidInput for text that is not an address."""
    return match_with_row(session, text)[0]


def _unmatched(*fields: Any) -> tuple[MatchResult, None]:
    return MatchResult(*fields), None


def match_with_row(session: Session, text: str) -> tuple[MatchResult, Any]:
    """``match_address``, and when it matched, the premises' row as read (``COLUMNS``), so
    that qualification need not read it again; None otherwise."""
    parsed = parse_address(text)
    if not parsed.street_name:
        raise InvalidInput("no street name found in the address", field="address")
    known = STREET_NAMES.get(session)
    names = SIMILAR(parsed.street_name, known)
    word = _DIRECTION_WORDS.get(parsed.predir or "")
    if word:
        for name, similarity in SIMILAR(f"{word} {parsed.street_name}", known).items():
            names[name] = max(names.get(name, 0.0), similarity)
    if not names:
        return _unmatched(
            MatchStatus.NOT_FOUND,
            f"No street like {parsed.street_name.title()} is in the service area.",
            parsed,
            None,
        )
    if not parsed.number:
        rows = (
            session.connection()
            .execute(
                sa.select(*COLUMNS)
                .where(Premises.street_name.in_(list(names)))
                .order_by(Premises.id)
                .limit(MAX_CANDIDATES)
            )
            .all()
        )
        return _unmatched(
            MatchStatus.NOT_FOUND,
            "The address has no house number; give one to check availability.",
            parsed,
            None,
            [as_candidate(r, min(0.5, score(parsed, r, names[r.street_name]))) for r in rows],
        )
    numbered, params = _NUMBERED.statement(list(names))
    params["number"] = parsed.number
    rows = session.connection().execute(numbered, params).all()
    ranked = _distinct_labels(
        sorted(
            (as_candidate(r, score(parsed, r, names[r.street_name])) for r in rows),
            key=lambda c: (-c.confidence, c.premises_id),
        )
    )
    if not ranked or ranked[0].confidence < 0.6:
        return _unmatched(
            MatchStatus.NOT_FOUND,
            f"No premises numbered {parsed.number} was found on {parsed.street.title()}; "
            "the nearest addresses are listed.",
            parsed,
            None,
            _nearest_numbers(session, parsed, names) or ranked[:MAX_CANDIDATES],
        )
    best = ranked[0]
    rivals = [c for c in ranked[1:] if best.confidence - c.confidence < AMBIGUITY_GAP]
    if best.confidence >= MATCH_THRESHOLD and not rivals:
        result = MatchResult(
            MatchStatus.MATCHED, f"Matched {best.label}.", parsed, best, ranked[:MAX_CANDIDATES]
        )
        return result, next(r for r in rows if r.id == best.premises_id)
    return _unmatched(
        MatchStatus.AMBIGUOUS,
        f"{len(rivals) + 1} addresses fit equally well; choose one."
        if rivals
        else f"Did you mean {best.label}? Please confirm.",
        parsed,
        None,
        ranked[:MAX_CANDIDATES],
    )


def nearest_premises(session: Session, *, lat: float, lon: float) -> list[Candidate]:
    """The premises nearest to a point (within about 2 km), nearest first."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("latitude or longitude out of range", field="lat")
    for radius_deg in (0.001, 0.005, 0.02):
        rows = (
            session.connection()
            .execute(
                sa.select(*COLUMNS)
                .where(
                    Premises.lat.between(lat - radius_deg, lat + radius_deg),
                    Premises.lon.between(lon - radius_deg * 1.3, lon + radius_deg * 1.3),
                )
                .limit(3000)
            )
            .all()
        )
        if rows:
            by_distance = sorted(
                ((distance_m(lat, lon, r.lat, r.lon), r) for r in rows), key=lambda x: x[0]
            )
            return [
                as_candidate(r, round(max(0.0, 1 - d / 500), 3), d)
                for d, r in by_distance[:MAX_CANDIDATES]
            ]
    raise NotFound("no premises within about 2 km of that point")


def premises_by_source_id(session: Session, source_id: str) -> Candidate:
    row = (
        session.connection()
        .execute(sa.select(*COLUMNS).where(Premises.source_id == source_id.strip().upper()))
        .first()
    )
    if row is None:
        raise NotFound(f"no premises with source id {source_id!r}")
    return as_candidate(row, 1.0)


def describe(result: MatchResult) -> dict[str, Any]:
    """A JSON-ready summary (used by the API, the CLI and the agent tools)."""
    parsed = result.parsed
    return {
        "status": result.status.value,
        "message": result.message,
        "parsed": None
        if parsed is None
        else {k: getattr(parsed, k) for k in ParsedAddress.__dataclass_fields__},
    }
