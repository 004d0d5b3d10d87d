"""Global search: one box for customers (account number, name, phone, email, service
address, ONT serial) and tickets (ticket number), tolerant of typos.

Exact identifiers come first (score 100): an account number, a ticket number, an ONT
serial, a phone number in any format (``phonenumbers``), an email address; a leading run
of an account number or ONT serial (typing it) scores 90. Then names and addresses,
ranked with ``rapidfuzz`` (scores below 100):

- On PostgreSQL each word of the query is checked against ``search_words``, the vocabulary
  of customers' names and addresses (a trigram index finds the nearest words of a misspelt
  one), and the customers holding every (corrected) word are read through the GIN word
  indexes on ``name`` and ``service_address`` (migration 0012; the last word as typed may
  be the start of a word). A name typed from its start is first looked up through B-tree
  ranges on ``name``. A query costs a few index look-ups however many customers there are
  (``bench/search.py``).
- On SQLite the candidates are the customers sharing a three-letter piece with a word of
  the query (``LIKE``), ranked the same way.

The same function serves the REST API, the console and the agent tools.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
import sqlalchemy as sa
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from fiberdesk.db.models import Customer, Equipment, Ticket
from fiberdesk.db.unit_of_work import UnitOfWork
from fiberdesk.domain.customers import ServiceStatus
from fiberdesk.domain.equipment import EquipmentType
from fiberdesk.domain.errors import Forbidden, InvalidInput
from fiberdesk.domain.users import Actor, Permission, Role
from fiberdesk.services.tickets import ticket_number

MIN_QUERY = 2
MAX_QUERY = 100
MAX_LIMIT = 50
#: a name or address below this score (0-100) is not a match
MIN_SCORE = 60.0
#: a name hit this good ends the search for other names (SURE) or addresses (LIKELY)
SURE = 95.0
LIKELY = 85.0
#: customers read per field before ranking
CANDIDATES = 100
#: a last word this short may still be being typed: it also stands for itself
TYPING = 4
#: readings of a name tried on the B-tree index at most ("James Smith", "Smith James", ...)
READINGS = 24
#: corrections tried for a misspelt word, at most, from the NEAREST words of the
#: vocabulary by trigram similarity and those one slip away
ALTERNATIVES = 5
NEAREST = 24
#: of which the first few by trigram similarity are always tried
BY_TRIGRAMS = 3
#: trigram similarity a corrected word needs (pg_trgm; "jon" and "john" are 0.29); words
#: of five letters or more keep more trigrams through a typo ("smiht" and "smith": 0.33)
WORD_SIMILARITY = 0.25
LONG_WORD_SIMILARITY = 0.3
#: roles that may not search every customer (a technician sees their own work orders)
REFUSED_ROLES = frozenset({Role.TECHNICIAN, Role.SELF_SERVICE})

#: what each ``matched`` value means, for people
MATCH_LABELS = {
    "account_number": "Account number",
    "ticket_number": "Ticket number",
    "ont_serial": "ONT serial",
    "phone": "Phone",
    "email": "Email",
    "name": "Name",
    "address": "Service address",
}

_WORD = re.compile(r"[^\W_]+")
_TICKET = re.compile(r"^\s*(?:TKT|#)\s*-?\s*0*(\d{1,9})\s*$", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^[\d\s()+.\-]+$")
_SERIAL = re.compile(r"^[A-Z0-9]{6,32}$")


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: str  # "customer" or "ticket"
    id: int
    customer_id: int
    title: str
    subtitle: str
    #: the field that matched: a key of MATCH_LABELS
    matched: str
    #: 100 for an exact identifier, 90 for its leading part, below that for names/addresses
    score: float
    #: the console page of the hit
    url: str

    @property
    def matched_label(self) -> str:
        return MATCH_LABELS.get(self.matched, self.matched)


def check_query(query: str, limit: int = 10) -> str:
    """The query with its spaces tidied; InvalidInput (field ``q``/``limit``) if unusable."""
    text = " ".join(query.split())
    if len(text) < MIN_QUERY:
        raise InvalidInput(f"type at least {MIN_QUERY} characters to search", field="q")
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"a search is at most {MAX_QUERY} characters", field="q")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"the limit is 1 to {MAX_LIMIT}", field="limit")
    return text


def may_search(actor: Actor) -> bool:
    return actor.can(Permission.CUSTOMERS_READ) and actor.role not in REFUSED_ROLES


def search(
    uow: UnitOfWork, *, actor: Actor, query: str, limit: int = 10, region: str = "US"
) -> list[SearchHit]:
    """The best ``limit`` hits for ``query``, best first."""
    actor.require(Permission.CUSTOMERS_READ)
    if actor.role in REFUSED_ROLES:
        raise Forbidden(f"the {actor.role.label.lower()} role may not search all customers")
    text = check_query(query, limit)
    session = uow.session
    found = _Found()
    _identifiers(session, text, region, found)
    exact = any(score == 100.0 for score, _ in [*found.customers.values(), *found.tickets.values()])
    if not exact and not _identifier_shaped(text) and len(found.customers) < limit:
        words = [w.lower() for w in _WORD.findall(text)]
        if any(not w.isdigit() for w in words):
            if session.get_bind().dialect.name == "postgresql":
                _fuzzy_postgres(session, text, words, limit, found)
            else:
                _fuzzy_sqlite(session, text, words, found)
    return found.hits(session, limit)


def _identifier_shaped(text: str) -> bool:
    """An email, a ticket number, a phone number or an ONT serial as typed: no name or
    address looks like one, so only the identifiers are looked up."""
    compact = re.sub(r"[\s\-]", "", text).upper()
    return bool(
        ("@" in text and " " not in text)
        or _TICKET.match(text)
        or (_PHONE_CHARS.match(text) and sum(c.isdigit() for c in text) >= 7)
        or (" " not in text and _SERIAL.match(compact) and sum(c.isdigit() for c in compact) >= 4)
    )


# --- collecting hits ---------------------------------------------------------------------


class _Found:
    """Customers and tickets found so far, each with its best score and field."""

    def __init__(self) -> None:
        self.customers: dict[int, tuple[float, str]] = {}
        self.tickets: dict[int, tuple[float, str]] = {}
        #: customer rows already read: id -> (account, name, address, status, unit)
        self.rows: dict[int, tuple[Any, ...]] = {}

    def best(self) -> float:
        return max((score for score, _ in self.customers.values()), default=0.0)

    def customer(self, customer_id: int, score: float, matched: str) -> None:
        if score > self.customers.get(customer_id, (-1.0, ""))[0]:
            self.customers[customer_id] = (score, matched)

    def hits(self, session: sa.orm.Session, limit: int) -> list[SearchHit]:
        hits: list[SearchHit] = []
        if self.tickets:
            rows = session.execute(_TICKETS, {"ids": list(self.tickets)}).all()
            for tid, cid, category, status, name in rows:
                score, matched = self.tickets[tid]
                hits.append(
                    SearchHit(
                        "ticket",
                        tid,
                        cid,
                        f"{ticket_number(tid)} · {category.label}",
                        f"{name} · {status.label}",
                        matched,
                        score,
                        f"/console/tickets/{tid}",
                    )
                )
        missing = [cid for cid in self.customers if cid not in self.rows]
        if missing:
            for row in session.execute(_CUSTOMERS, {"ids": missing}):
                self.rows[row[0]] = tuple(row[1:])
        closed = ServiceStatus.DISCONNECTED

        def order(item: tuple[int, tuple[float, str]]) -> tuple[float, bool, int]:
            cid, (score, _) = item
            return (-round(score, 1), ServiceStatus(self.rows[cid][3]) is closed, cid)

        best = sorted(self.customers.items(), key=order)[:limit]
        for cid, (score, matched) in best:
            account, name, address, status, unit = self.rows[cid]
            has_unit = unit and unit.lower() not in address.lower()
            place = f"{address}, unit {unit}" if has_unit else address
            hits.append(
                SearchHit(
                    "customer",
                    cid,
                    cid,
                    name,
                    f"{account} · {place} · {ServiceStatus(status).label}",
                    matched,
                    round(score, 1),
                    f"/console/customers/{cid}",
                )
            )
        # best first, a ticket before a customer of the same score; the sort is stable, so
        # customers keep their order (disconnected after live ones of the same score)
        hits.sort(key=lambda h: (-h.score, h.kind != "ticket"))
        return hits[:limit]


#: what a customer hit shows, in this order (``_Found.rows``)
_HIT_COLUMNS = (
    Customer.id,
    Customer.account_number,
    Customer.name,
    Customer.service_address,
    Customer.status,
    Customer.unit,
)


def _customer_columns() -> Any:
    return sa.select(*_HIT_COLUMNS)


_CUSTOMERS = _customer_columns().where(Customer.id.in_(sa.bindparam("ids", expanding=True)))
_TICKETS = (
    sa.select(Ticket.id, Ticket.customer_id, Ticket.category, Ticket.status, Customer.name)
    .join(Customer, Customer.id == Ticket.customer_id)
    .where(Ticket.id.in_(sa.bindparam("ids", expanding=True)))
)
_TICKET_ID = sa.select(Ticket.id).where(Ticket.id == sa.bindparam("id"))


# --- exact identifiers ---------------------------------------------------------------------


def _identifiers(session: sa.orm.Session, text: str, region: str, found: _Found) -> None:
    """Each kind of identifier the text can be, looked up through its unique index; the
    customer identifiers it may be (an account number and a phone number are both digits)
    in one statement."""
    ticket = _TICKET.match(text)
    if ticket:
        tid = int(ticket.group(1))
        if session.scalar(_TICKET_ID, {"id": tid}) is not None:
            found.tickets[tid] = (100.0, "ticket_number")
    probes: list[str] = []
    params: dict[str, Any] = {}
    compact = re.sub(r"[\s\-]", "", text).upper()
    if compact.isdigit() and len(compact) == 10:
        probes.append("account")
        params["account"] = compact
    elif compact.isdigit() and 4 <= len(compact) < 10:
        # the leading digits of an account number, as typed: a range on the unique index
        probes.append("account_start")
        params |= {"low": compact, "high": compact[:-1] + chr(ord(compact[-1]) + 1)}
    if _PHONE_CHARS.match(text) and sum(c.isdigit() for c in text) >= 7:
        e164 = _e164(text, region)
        if e164 is not None:
            probes.append("phone")
            params["phone"] = e164
    if "@" in text and " " not in text:
        local, _, domain = text.partition("@")
        probes.append("email")
        params["emails"] = sorted({text, text.lower(), f"{local}@{domain.lower()}"})
    if probes:
        for row in session.execute(_probe_statement(tuple(probes)), params):
            score, matched = _PROBES[probes[row[-1]]][1:3]
            found.rows[row[0]] = tuple(row[1:-1])
            found.customer(row[0], score, matched)
    serial_like = _SERIAL.match(compact) and any(c.isdigit() for c in compact)
    if serial_like and not compact.isdigit() and not ticket:
        _serial(session, compact, found)


#: the customer identifiers: (condition, score, field, order) of each probe
_PROBES: dict[str, tuple[Any, float, str, Any]] = {
    "account": (Customer.account_number == sa.bindparam("account"), 100.0, "account_number", None),
    "account_start": (
        sa.and_(
            Customer.account_number >= sa.bindparam("low"),
            Customer.account_number < sa.bindparam("high"),
        ),
        90.0,
        "account_number",
        Customer.account_number,
    ),
    "phone": (Customer.phone == sa.bindparam("phone"), 100.0, "phone", None),
    "email": (Customer.email.in_(sa.bindparam("emails", expanding=True)), 100.0, "email", None),
}
_PROBE_STATEMENTS: dict[tuple[str, ...], Any] = {}


def _probe_statement(probes: tuple[str, ...]) -> Any:
    """One statement for the probes given, built once: the customers each finds, at most
    ``CANDIDATES // 4`` each, the last column telling which probe found the row."""
    statement = _PROBE_STATEMENTS.get(probes)
    if statement is None:
        selects = []
        for i, name in enumerate(probes):
            condition, _score, _matched, order = _PROBES[name]
            query = _customer_columns().add_columns(sa.literal_column(str(i)).label("probe"))
            query = query.where(condition)
            if order is not None:
                query = query.order_by(order)
            selects.append(query.limit(CANDIDATES // 4))
        if len(selects) == 1:
            statement = selects[0]
        else:
            # each part keeps its own LIMIT and ORDER BY inside a subquery
            parts: list[Any] = [sa.select(*q.subquery().c) for q in selects]
            statement = sa.union_all(*parts)
        _PROBE_STATEMENTS[probes] = statement
    return statement


def _e164(text: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_BY_SERIAL = (
    sa.select(Equipment.customer_id, Equipment.serial_number)
    .where(
        Equipment.serial_number >= sa.bindparam("low"),
        Equipment.serial_number < sa.bindparam("high"),
        Equipment.type == EquipmentType.ONT,
        Equipment.customer_id.is_not(None),
    )
    .order_by(Equipment.serial_number)
    .limit(10)
)


def _serial(session: sa.orm.Session, serial: str, found: _Found) -> None:
    """An installed or past ONT's serial, whole (100) or its leading part (90)."""
    params = {"low": serial, "high": serial[:-1] + chr(ord(serial[-1]) + 1)}
    for owner, number in session.execute(_BY_SERIAL, params):
        if owner is not None:
            found.customer(owner, 100.0 if number == serial else 90.0, "ont_serial")


# --- names and addresses -------------------------------------------------------------------


def _word_score(word: str, targets: Sequence[str], *, last: bool) -> float:
    """How well one word of the query is met by the best of ``targets`` (0-100): numbers
    must be equal, words may be misspelt, and the last word may be half typed."""
    best = 0.0
    for t in targets:
        if word == t:
            return 100.0
        if word.isdigit() or t.isdigit():
            continue
        # Indel ratio for missing or extra letters, OSA for swapped neighbours (jonh, john)
        score = max(fuzz.ratio(word, t), 100.0 * OSA.normalized_similarity(word, t))
        if last and len(word) >= 2 and t.startswith(word):
            score = max(score, 90.0 + 10.0 * len(word) / len(t))
        best = max(best, score)
    return best


def _resemblance(words: Sequence[str], text: str) -> float:
    """How well ``text`` answers the query's words (0-99): mostly how well each word is
    met, a little how much of ``text`` the query covers."""
    targets = [w.lower() for w in _WORD.findall(text)]
    if not words or not targets:
        return 0.0
    met = [_word_score(w, targets, last=i == len(words) - 1) for i, w in enumerate(words)]
    covered = min(1.0, len(words) / len(targets))
    return min(99.0, 0.9 * sum(met) / len(met) + 10.0 * covered - 1.0)


def _score(words: Sequence[str], name: str, address: str) -> tuple[float, str]:
    """The better of the name's and the address's resemblance to the query."""
    by_name = _resemblance(words, name)
    by_address = _resemblance(words, address)
    if by_name >= by_address:
        return by_name, "name"
    return by_address, "address"


def _rank(
    text: str, rows: Iterable[Sequence[Any]], found: _Found, field: str | None = None
) -> None:
    """Score each row against the query: on ``field`` ("name" or "address") when the rows
    were found through it, else on the better of both."""
    words = [w.lower() for w in _WORD.findall(text)]
    for row in rows:
        if field == "name":
            score, matched = _resemblance(words, row[2]), "name"
        elif field == "address":
            score, matched = _resemblance(words, row[3]), "address"
        else:
            score, matched = _score(words, row[2], row[3])
        if score >= MIN_SCORE:
            found.rows[row[0]] = tuple(row[1:])
            found.customer(row[0], score, matched)


#: for each word of the query: itself when it is a word of the vocabulary (the primary
#: key), else, when it may be misspelt, its nearest words by trigram similarity; in one
#: round trip. The threshold is set in the same statement: the lateral part reads cfg, so
#: set_config runs first; NOT EXISTS is a one-time filter, so a known word costs no
#: trigram scan.
_NEAREST = sa.text(
    """
    SELECT q.w, s.word
    FROM (SELECT set_config('pg_trgm.similarity_threshold', :threshold, true)) AS cfg(v),
         unnest(CAST(:words AS text[]), CAST(:fuzzy AS boolean[])) AS q(w, fuzzy)
         CROSS JOIN LATERAL (
             SELECT k.word FROM search_words AS k WHERE k.word = q.w
             UNION ALL
             (SELECT n.word FROM search_words AS n
              WHERE q.fuzzy AND cfg.v IS NOT NULL AND n.word % q.w
                AND NOT EXISTS (SELECT 1 FROM search_words AS e WHERE e.word = q.w)
              ORDER BY similarity(n.word, q.w) DESC, n.word
              LIMIT :near)
         ) AS s
    UNION ALL
    SELECT v.w, k.word
    FROM unnest(CAST(:variants AS text[]), CAST(:sources AS text[])) AS v(variant, w)
         JOIN search_words AS k ON k.word = v.variant
    """
)


def _variants(word: str) -> set[str]:
    """The word with two neighbours swapped or one letter dropped: the slips that share
    too few trigrams with the word meant (smtih, smith) for the trigram index to find."""
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    dropped = {word[:i] + word[i + 1 :] for i in range(len(word))}
    return {v for v in swapped | dropped if v != word and len(v) >= 2}


def _corrections(
    session: sa.orm.Session, words: Sequence[str], *, typing: str | None
) -> dict[str, list[str]]:
    """For each word of three letters or more: itself if it is a known word, else the
    nearest known words (a slip away, or by pg_trgm), best first. ``typing``, a short last
    word that may be half typed, is only looked up as it is."""
    wanted = sorted({w for w in words if len(w) >= 3 and not w.isdigit()})
    if not wanted:
        return {}
    near: dict[str, list[str]] = {w: [] for w in wanted}
    # a longer misspelt word keeps more trigrams: a higher threshold, fewer candidates
    fuzzy = [w for w in wanted if w != typing]
    threshold = WORD_SIMILARITY if any(len(w) <= 4 for w in fuzzy) else LONG_WORD_SIMILARITY
    slips = [(v, w) for w in fuzzy for v in sorted(_variants(w))]
    params = {
        "threshold": str(threshold),
        "words": wanted,
        "fuzzy": [w != typing for w in wanted],
        "near": NEAREST,
        "variants": [v for v, _ in slips],
        "sources": [w for _, w in slips],
    }
    slipped: dict[str, set[str]] = {w: set() for w in wanted}
    for word, candidate in session.execute(_NEAREST, params):
        if candidate not in near[word]:
            near[word].append(candidate)
    for variant, word in slips:
        if variant in near[word]:
            slipped[word].add(variant)
    result: dict[str, list[str]] = {}
    for word, candidates in near.items():
        if word in candidates:
            result[word] = [word]
        elif candidates:
            # one slip away first (smtih: smith), then the nearest by shared trigrams
            # (chaard: chard), then the fewest edits (jonh: john before joan)
            ranked = sorted(candidates, key=lambda c: (OSA.distance(word, c), -fuzz.ratio(word, c)))
            fewest = OSA.distance(word, ranked[0])
            close = [c for c in ranked if OSA.distance(word, c) <= fewest]
            first = [c for c in ranked if c in slipped[word]]
            trigram = [c for c in candidates if c not in slipped[word]][:BY_TRIGRAMS]
            result[word] = list(dict.fromkeys([*first, *trigram, *close]))[:ALTERNATIVES]
    return result


def _fuzzy_postgres(
    session: sa.orm.Session, text: str, words: list[str], limit: int, found: _Found
) -> None:
    """Names first (a query without numbers), then addresses while hits are short; when
    nothing is found and the last word was taken as half typed, once more as misspelt."""
    typing = words[-1] if len(words[-1]) <= TYPING and not words[-1].isdigit() else None
    _fuzzy_pass(session, text, words, limit, found, typing)
    if typing is not None and not found.customers:
        _fuzzy_pass(session, text, words, limit, found, None)


def _fuzzy_pass(
    session: sa.orm.Session,
    text: str,
    words: list[str],
    limit: int,
    found: _Found,
    typing: str | None,
) -> None:
    fixes = _corrections(session, words, typing=typing)
    lettered = [w for w in words if len(w) >= 3 and not w.isdigit()]
    # each word of three or more letters: the words that stand for it in ILIKE '%word%';
    # the last word may be half typed ("smi"), so a short one also stands for itself
    alternatives: list[list[str]] = []
    for w in lettered:
        options = list(fixes.get(w, []))
        if w == words[-1] and w not in options and (w == typing or not options):
            options.insert(0, w)
        alternatives.append(options)
    if not alternatives or not all(alternatives):
        return
    numbers = [w for w in words if w.isdigit()]

    def term(word: str, given: str) -> str:
        # the last word of the query, as typed, may be half typed: it begins a word of
        # the column; the others, and corrections (words of the vocabulary), are whole
        return f"{word}:*" if word == given == words[-1] else word

    def matching(*extra: str) -> dict[str, str]:
        # every word of the query (one of its alternatives) is a word of the column:
        # through the GIN word index of migration 0012
        groups = [
            " | ".join(term(o, w) for o in opts)
            for w, opts in zip(lettered, alternatives, strict=True)
        ]
        groups += [term(n, n) for n in extra]
        return {"words": " & ".join(f"({g})" for g in groups)}

    if not numbers:  # names have no numbers
        short = [w for w in words if len(w) < 3]
        if 2 <= len(lettered) <= 3 and not short and all(fixes.get(w) for w in lettered[:-1]):
            # a name typed from its start ("james smi", "jmaes smith"): ranges of the B-tree
            # index on name, one per reading, answer without the trigram index
            readings = [fixes[w] for w in lettered[:-1]] + [alternatives[-1]]
            starts = {" ".join(p.capitalize() for p in r) for r in itertools.product(*readings)}
            if len(lettered) == 2 and fixes.get(lettered[-1]):
                starts |= {
                    f"{b.capitalize()} {a.capitalize()}"
                    for a, b in itertools.product(*[fixes[w] for w in lettered])
                }
            lows = sorted(starts)[:READINGS]
            params = {
                "lows": lows,
                "highs": [s[:-1] + chr(ord(s[-1]) + 1) for s in lows],
                "n": max(3 * limit, 30),
            }
            _rank(text, session.execute(_BY_START, params).all(), found, "name")
        if len(found.customers) < limit and found.best() < SURE:
            rows = session.execute(_BY_WORDS["name"], matching()).all()
            _rank(text, rows, found, "name")
    if len(found.customers) < limit and (numbers or found.best() < LIKELY):
        rows = session.execute(_BY_WORDS["service_address"], matching(*numbers)).all()
        _rank(text, rows, found, "address")


#: the customers whose name begins with one of the readings: a range of the B-tree index
#: on name for each (one statement whatever the number of readings)
_BY_START = sa.text(
    """
        SELECT c.id, c.account_number, c.name, c.service_address, c.status, c.unit
        FROM unnest(CAST(:lows AS text[]), CAST(:highs AS text[])) AS r(low, high)
             CROSS JOIN LATERAL (
                 SELECT * FROM customers WHERE name >= r.low AND name < r.high LIMIT :n
             ) AS c
        LIMIT :n
        """
).columns(*_HIT_COLUMNS)

#: the customers whose name (or service address) holds the words of a ``to_tsquery``
#: text, through the column's GIN word index (migration 0012), built once
_SIMPLE: Any = sa.literal_column("'simple'::regconfig")
_BY_WORDS = {
    column.key: _customer_columns()
    .where(
        sa.func.to_tsvector(_SIMPLE, column).bool_op("@@")(
            sa.func.to_tsquery(_SIMPLE, sa.bindparam("words", type_=sa.String))
        )
    )
    .limit(CANDIDATES)
    for column in (Customer.name, Customer.service_address)
}


def _fuzzy_sqlite(session: sa.orm.Session, text: str, words: list[str], found: _Found) -> None:
    pieces: set[str] = set()
    conditions: list[sa.ColumnElement[bool]] = []
    name, address = sa.func.lower(Customer.name), sa.func.lower(Customer.service_address)
    for w in words:
        if len(w) < 3:
            conditions += [name.like(f"{w}%"), name.like(f"% {w}%")]
            continue
        pieces |= {w[i : i + 3] for i in range(len(w) - 2)}
    for piece in sorted(pieces):
        conditions += [name.like(f"%{piece}%"), address.like(f"%{piece}%")]
    if not conditions:
        return
    rows = session.execute(
        _customer_columns().where(sa.or_(*conditions)).order_by(Customer.id).limit(CANDIDATES * 10)
    ).all()
    _rank(text, rows, found)
