"""Delivering the outbox: claim due messages, apply preferences, render, send, record.

Statuses of an ``outbox_messages`` row:

- ``pending``: waiting, or due again at ``next_attempt_at`` after a temporary failure;
- ``sent``: delivered (``sent_at``);
- ``skipped``: not sent because the customer opted out of this non-essential kind;
- ``failed``: the dead-letter list, after a permanent refusal or ``max_attempts`` tries.

Each try writes a ``delivery_attempts`` row (outcome sent, failed, dead or skipped, the
channel and recipient actually used, the worker) in the same transaction that records the
message's new status. A worker claims a batch with a lease (``claimed_by``,
``claimed_until``): ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, one ``BEGIN
IMMEDIATE`` transaction on SQLite, so two workers never hold the same message. A worker that
dies leaves its claims to lapse; another takes them over when the lease ends. A live worker
renews the leases of the rest of its batch every half lease.

Messages are sent one at a time, outside any transaction, and each is marked sent in its own
commit straight after: the one window for a duplicate is a crash (or a lost database
connection) after the server accepted a message and before that commit. The retry carries
the same Message-ID / SMS key / delivery id (``delivery_id``), so the receiver can tell.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fiberdesk.adapters.notifications.base import (
    DeliveryError,
    EmailSender,
    RejectedError,
    SmsSender,
    WebhookSender,
    delivery_id,
)
from fiberdesk.db.base import utcnow
from fiberdesk.db.models import Customer, DeliveryAttempt, OutboxMessage, WebhookEndpoint
from fiberdesk.db.unit_of_work import UnitOfWork, UowFactory
from fiberdesk.domain.errors import Conflict, NotFound
from fiberdesk.domain.users import Actor, Permission
from fiberdesk.services import audit, preferences, webhooks

log = logging.getLogger("fiberdesk.outbox")
STATUSES = ("pending", "sent", "skipped", "failed")
OM = OutboxMessage


class Rendered(Protocol):
    @property
    def subject(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def html(self) -> str: ...


class Renderer(Protocol):
    def __call__(self, kind: str, context: dict[str, Any], /) -> Rendered: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    #: the first retry waits this long, each later one twice as long as the one before
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    #: each wait is spread by up to this share either way, so retries do not stampede
    jitter: float = 0.2
    lease_seconds: float = 60.0

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        raw = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=raw * (1 + rng.uniform(-self.jitter, self.jitter)))


@dataclass
class Delivery:
    """What a worker needs: units of work, the three senders, a renderer, the policy."""

    uow: UowFactory
    email: EmailSender
    sms: SmsSender
    webhooks: WebhookSender
    render: Renderer
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    dead: int = 0
    #: claims that lapsed and were taken by another worker before this one got to them
    lost: int = 0
    released: int = 0


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        OM.status == "pending",
        OM.next_attempt_at <= now,
        sa.or_(OM.claimed_until.is_(None), OM.claimed_until < now),
    )


def _ours(ids: Sequence[int], worker: str) -> sa.ColumnElement[bool]:
    return sa.and_(OM.id.in_(ids), OM.claimed_by == worker, OM.status == "pending")


def _set(session: Session, *where: sa.ColumnElement[bool], **values: Any) -> int:
    """``UPDATE outbox_messages SET values WHERE where``; returns the rows changed."""
    # Core on the session's connection: no ORM bookkeeping (nothing of these rows is loaded)
    return session.connection().execute(sa.update(OM).where(*where).values(**values)).rowcount


def has_due(session: Session, now: datetime) -> bool:
    return session.scalar(sa.select(OM.id).where(_due(now)).limit(1)) is not None


def claim(
    uow: UnitOfWork,
    *,
    worker: str,
    limit: int,
    now: datetime | None = None,
    lease: timedelta = timedelta(seconds=60),
) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker`` and commit; returns their ids."""
    now = now or utcnow()
    s = uow.session
    query = sa.select(OM.id).where(_due(now)).order_by(OM.next_attempt_at, OM.id).limit(limit)
    if s.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(s.scalars(query))
    if ids:
        _set(s, OM.id.in_(ids), claimed_by=worker, claimed_until=now + lease)
    uow.commit()
    return ids


def release(uow: UnitOfWork, *, worker: str, ids: Sequence[int]) -> None:
    """Give back claims not worked on (a worker stopping mid-batch)."""
    if ids:
        _set(uow.session, _ours(ids, worker), claimed_by=None, claimed_until=None)
    uow.commit()


def renew(uow: UnitOfWork, *, worker: str, ids: Sequence[int], until: datetime) -> set[int]:
    """Extend the leases still held by ``worker``; returns the ids it still holds."""
    _set(uow.session, _ours(ids, worker), claimed_until=until)
    held = set(uow.session.scalars(sa.select(OM.id).where(_ours(ids, worker))))
    uow.commit()
    return held


@dataclass
class _Job:
    """A claimed message (detached from its session) and what delivering it needs."""

    message: OutboxMessage
    essential: bool
    prefs: dict[str, str] = field(default_factory=dict)
    contact: tuple[str | None, str | None] = (None, None)
    #: a webhook's endpoint: (url, secret, active)
    endpoint: tuple[str, str, bool] | None = None


def _load(session: Session, worker: str, ids: Sequence[int]) -> list[_Job]:
    rows = session.scalars(sa.select(OM).where(_ours(ids, worker)).order_by(OM.id)).all()
    customers = {m.customer_id for m in rows if m.customer_id is not None}
    prefs = preferences.load(session, customers)
    contacts = {
        c.id: (c.email, c.phone)
        for c in session.execute(
            sa.select(Customer.id, Customer.email, Customer.phone).where(Customer.id.in_(customers))
        )
    }
    hooks = {int(m.recipient) for m in rows if m.channel == "webhook" and m.recipient.isdigit()}
    endpoints = {
        e.id: (e.url, e.secret, e.active)
        for e in session.scalars(sa.select(WebhookEndpoint).where(WebhookEndpoint.id.in_(hooks)))
    }
    jobs = []
    for m in rows:
        job = _Job(m, m.essential or preferences.is_essential(m.kind))
        if m.customer_id is not None:
            job.prefs = prefs.get(m.customer_id, {})
            job.contact = contacts.get(m.customer_id, (None, None))
        if m.channel == "webhook" and m.recipient.isdigit():
            job.endpoint = endpoints.get(int(m.recipient))
        jobs.append(job)
    return jobs


@dataclass(frozen=True, slots=True)
class _Outcome:
    #: sent, skipped, retry or dead
    result: str
    detail: str


def sms_body(rendered: Rendered, limit: int = 480) -> str:
    """A text message from a rendering: the subject, then the text on one line."""
    body = f"{rendered.subject}: {' '.join(rendered.text.split())}"
    return body if len(body) <= limit else body[: limit - 1] + "…"


def _webhook(deps: Delivery, job: _Job, did: str) -> str:
    m = job.message
    if job.endpoint is None:
        raise RejectedError(f"webhook endpoint {m.recipient} no longer exists")
    url, secret, active = job.endpoint
    if not active:
        raise RejectedError(f"webhook endpoint {m.recipient} is deactivated")
    body, headers = webhooks.signed_request(
        secret=secret,
        event=m.kind,
        delivery_id=did,
        created_at=m.created_at,
        data=dict(m.context or {}),
        timestamp=int(deps.clock().timestamp()),
    )
    return f"webhook to {url}: {deps.webhooks.post(url, body, headers)}"


def _attempt(deps: Delivery, job: _Job) -> _Outcome:
    m = job.message
    did = delivery_id(m.idempotency_key)
    try:
        if m.channel == "webhook":
            return _Outcome("sent", _webhook(deps, job, did))
        email, phone = job.contact
        where = preferences.resolve(
            job.prefs,
            kind=m.kind,
            channel=m.channel,
            recipient=m.recipient,
            essential=job.essential,
            email=email,
            phone=phone,
        )
        if where is None:
            return _Outcome("skipped", f"opted out of {m.kind} messages")
        channel, to = where
        try:
            rendered = deps.render(m.kind, dict(m.context or {}))
        except Exception as exc:  # a template that cannot render will not render on retry
            return _Outcome("dead", f"cannot render {m.kind}: {exc}")
        if channel == "email":
            extra = {"X-Fiberdesk-Kind": m.kind}
            note = deps.email.send(to, rendered.subject, rendered.text, rendered.html, did, extra)
        elif channel == "sms":
            note = deps.sms.send(to, sms_body(rendered), did)
        else:
            return _Outcome("dead", f"unknown channel {channel!r}")
        return _Outcome("sent", f"{channel} to {to}: {note}")
    except RejectedError as exc:
        return _Outcome("dead", str(exc) or "refused")
    except DeliveryError as exc:
        return _Outcome("retry", str(exc) or "temporary failure")
    except Exception as exc:  # an adapter's bug must not stop the worker: retry later
        log.exception("unexpected error delivering outbox message %s", m.id)
        return _Outcome("retry", f"unexpected {type(exc).__name__}: {exc}")


# One message's outcome, built once (executed per message with parameters, so nothing is
# compiled or coerced per message). The claimed_by condition is left out for a send: it
# happened whoever holds the claim now; other outcomes must not overwrite another worker's.
_OUTCOME_SENT = (
    sa.update(OM)
    .where(OM.id == sa.bindparam("m_id"), OM.status == "pending")
    .values(
        status=sa.bindparam("m_status"),
        attempts=sa.bindparam("m_attempts"),
        sent_at=sa.bindparam("m_sent_at"),
        next_attempt_at=sa.bindparam("m_next"),
        last_error=sa.bindparam("m_error"),
        claimed_by=None,
        claimed_until=None,
    )
)
_OUTCOME_OTHER = _OUTCOME_SENT.where(OM.claimed_by == sa.bindparam("m_worker"))
_LOG = sa.insert(DeliveryAttempt)


def _record(deps: Delivery, worker: str, job: _Job, outcome: _Outcome) -> str:
    """Write the outcome and its delivery-log row in one transaction; returns the result
    (a retry past the last attempt becomes dead)."""
    now = deps.clock()
    m = job.message
    attempts = m.attempts + 1
    result, detail = outcome.result, outcome.detail[:500]
    status, sent_at, next_at, error = "pending", None, m.next_attempt_at, None
    if result in ("sent", "skipped"):
        status, sent_at = result, (now if result == "sent" else None)
    elif result == "retry" and attempts < deps.policy.max_attempts:
        next_at, error = now + deps.policy.delay(attempts, deps.rng), detail
    else:
        if result == "retry":
            detail = f"gave up after {attempts} attempts: {detail}"[:500]
        result, status, error = "dead", "failed", detail
    params = {"m_id": m.id, "m_status": status, "m_attempts": attempts, "m_sent_at": sent_at,
              "m_next": next_at, "m_error": error, "m_worker": worker}  # fmt: skip
    with deps.uow() as uow:
        conn = uow.session.connection()
        update = _OUTCOME_SENT if result == "sent" else _OUTCOME_OTHER
        if conn.execute(update, params).rowcount == 0:
            log.warning("outbox message %s changed hands during delivery", m.id)
            detail = f"(claim lost) {detail}"[:500]
        conn.execute(
            _LOG,
            {"message_id": m.id, "attempt": attempts, "at": now, "detail": detail,
             "outcome": "failed" if result == "retry" else result, "worker": worker},
        )  # fmt: skip
        uow.commit()
    return result


def deliver_batch(
    deps: Delivery, *, worker: str, limit: int, stop: threading.Event | None = None
) -> BatchResult:
    """Claim up to ``limit`` due messages and deliver them one by one; stops early (giving
    back the rest) when ``stop`` is set."""
    result = BatchResult()
    now = deps.clock()
    with deps.uow(write=False) as reading:
        if not has_due(reading.session, now):
            return result
    lease = timedelta(seconds=deps.policy.lease_seconds)
    with deps.uow() as uow:
        ids = claim(uow, worker=worker, limit=limit, now=now, lease=lease)
    if not ids:
        return result
    renewed = time.monotonic()
    with deps.uow(write=False) as reading:
        jobs = _load(reading.session, worker, ids)
    result.claimed = len(jobs)
    held = {j.message.id for j in jobs}
    for index, job in enumerate(jobs):
        stopping = stop is not None and stop.is_set()
        if stopping or time.monotonic() - renewed > deps.policy.lease_seconds / 2:
            rest = [j.message.id for j in jobs[index:] if j.message.id in held]
            with deps.uow() as uow:
                if stopping:
                    release(uow, worker=worker, ids=rest)
                    result.released = len(rest)
                    break
                held = renew(uow, worker=worker, ids=rest, until=deps.clock() + lease)
            renewed = time.monotonic()
        if job.message.id not in held:
            result.lost += 1
            continue
        outcome = _record(deps, worker, job, _attempt(deps, job))
        name = "retried" if outcome == "retry" else outcome
        setattr(result, name, getattr(result, name) + 1)
    return result


@dataclass(frozen=True, slots=True)
class AttemptView:
    attempt: int
    at: datetime
    outcome: str
    detail: str | None
    worker: str | None


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message as the delivery log and the dead-letter list show it."""

    id: int
    kind: str
    channel: str
    recipient: str
    customer_id: int | None
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    log: tuple[AttemptView, ...]


def _views(session: Session, rows: Sequence[OutboxMessage]) -> list[MessageView]:
    tries: dict[int, list[AttemptView]] = {m.id: [] for m in rows}
    query = sa.select(DeliveryAttempt).where(DeliveryAttempt.message_id.in_(list(tries)))
    for a in session.scalars(query.order_by(DeliveryAttempt.id)):
        tries[a.message_id].append(AttemptView(a.attempt, a.at, a.outcome, a.detail, a.worker))
    fields = ("id", "kind", "channel", "recipient", "customer_id", "status", "attempts")
    times = ("created_at", "next_attempt_at", "sent_at", "last_error")
    return [
        MessageView(**{f: getattr(m, f) for f in fields + times}, log=tuple(tries[m.id]))
        for m in rows
    ]


def delivery_log(
    uow: UnitOfWork, *, actor: Actor, customer_id: int, limit: int = 200
) -> list[MessageView]:
    """A customer's messages, newest first, each with every try at delivering it."""
    actor.require(Permission.CUSTOMERS_READ)
    if uow.session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    query = sa.select(OM).where(OM.customer_id == customer_id)
    rows = uow.session.scalars(query.order_by(OM.id.desc()).limit(limit)).all()
    return _views(uow.session, rows)


def dead_letters(uow: UnitOfWork, *, actor: Actor, limit: int = 200) -> list[MessageView]:
    """Messages given up on (status ``failed``), newest first."""
    actor.require(Permission.CUSTOMERS_READ)
    query = sa.select(OM).where(OM.status == "failed")
    rows = uow.session.scalars(query.order_by(OM.id.desc()).limit(limit)).all()
    return _views(uow.session, rows)


def retry_dead(uow: UnitOfWork, *, actor: Actor, message_id: int) -> MessageView:
    """Put a dead letter back in the queue, due now, with a fresh count of attempts."""
    actor.require(Permission.CUSTOMERS_WRITE)
    s = uow.session
    message = s.get(OM, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    if message.channel == "webhook":
        actor.require(Permission.ADMIN)
    if message.status != "failed":
        raise Conflict(f"message {message_id} is {message.status}, not a dead letter")
    plain = frozenset({"context"})
    before = audit.snapshot(message, exclude=plain)
    message.status, message.attempts, message.next_attempt_at = "pending", 0, utcnow()
    message.claimed_by = message.claimed_until = None
    s.flush()
    after = audit.snapshot(message, exclude=plain)
    audit.record(
        s,
        actor=actor,
        action="outbox.retry",
        entity_type="outbox_message",
        entity_id=message.id,
        before=before,
        after=after,
    )
    view = _views(s, [message])[0]
    uow.commit()
    return view


def queue_depth(session: Session) -> dict[str, int]:
    """How many messages are in each status (every status present, zero included)."""
    depth = dict.fromkeys(STATUSES, 0)
    query = sa.select(OM.status, sa.func.count()).group_by(OM.status)
    for status, count in session.execute(query):
        depth[status] = count
    return depth
