"""The outbox worker: claims due messages and delivers them, once a day queues the
day-before appointment reminders, and every ``kpi_alert_check_minutes`` checks the KPIs
against their alert thresholds (``services.kpis.check_alerts``).

Run it as ``fiberdesk worker`` (or ``python -m fiberdesk.worker``); ``fiberdesk serve`` runs
one in a daemon thread (``start_in_process``) unless ``worker_in_process`` is off. Any number
of workers may share one database: they claim with leases (``services.outbox.claim``).
SIGTERM and SIGINT stop a worker after the message it is sending; its unsent claims are
given back at once. A second signal falls back to the default (immediate exit).
"""

from __future__ import annotations

import argparse
import html
import importlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, cast

from pydantic_settings import BaseSettings, SettingsConfigDict

from fiberdesk.adapters.notifications.base import EmailSender, SmsSender, WebhookSender
from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.config import Settings
from fiberdesk.domain.errors import InvalidInput
from fiberdesk.domain.users import Actor, Channel, Role
from fiberdesk.services import kpis, outbox, reminders

log = logging.getLogger("fiberdesk.worker")


class DeliverySettings(BaseSettings):
    """Delivery settings from ``FIBERDESK_*`` variables (see docs/delivery.md). Where the
    main ``Settings`` has a field of the same name, its value is used instead."""

    model_config = SettingsConfigDict(
        env_prefix="FIBERDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    mail_from: str = "Chesapeake Fiber <no-reply@chesapeake-fiber.example>"
    #: the SMS adapter: "fake" records into the fake_sms table
    sms_adapter: str = "fake"
    webhook_timeout: float = 10.0
    outbox_max_attempts: int = 8
    outbox_backoff_seconds: float = 30.0
    outbox_backoff_max_seconds: float = 3600.0
    #: how long a claim lasts; sends must time out well within half of it
    outbox_lease_seconds: float = 60.0
    outbox_batch: int = 50
    worker_poll_seconds: float = 1.0
    worker_in_process: bool = True
    #: the hour (UTC) from which the day's appointment reminders are queued
    reminder_hour_utc: int = 14


def delivery_settings(settings: Settings) -> DeliverySettings:
    own = DeliverySettings()
    shared = type(settings).model_fields
    updates = {n: getattr(settings, n) for n in DeliverySettings.model_fields if n in shared}
    return own.model_copy(update=updates)


def build_senders(
    ds: DeliverySettings, app: Fiberdesk
) -> tuple[EmailSender, SmsSender, WebhookSender]:
    """The configured senders (what bootstrap puts on ``app.email``, ``.sms``, ``.webhooks``)."""
    from fiberdesk.adapters.notifications.smtp import SmtpEmailSender
    from fiberdesk.adapters.notifications.webhook import HttpWebhookSender

    if ds.sms_adapter != "fake":
        raise InvalidInput(f"unknown SMS adapter {ds.sms_adapter!r} (known: fake)")
    from fiberdesk.adapters.notifications.sms_fake import FakeSmsSender

    email = SmtpEmailSender(
        ds.smtp_host,
        ds.smtp_port,
        mail_from=ds.mail_from,
        user=ds.smtp_user,
        password=ds.smtp_password,
        starttls=ds.smtp_starttls,
        timeout=ds.smtp_timeout,
    )
    return email, FakeSmsSender(app.session_factory), HttpWebhookSender(timeout=ds.webhook_timeout)


@dataclass(frozen=True, slots=True)
class PlainRendering:
    subject: str
    text: str
    html: str


def plain_render(kind: str, context: dict[str, Any]) -> PlainRendering:
    """A rendering of the fields alone, used only while no template module is installed."""
    subject = kind.replace("_", " ").capitalize()
    lines = [f"{k.replace('_', ' ')}: {v}" for k, v in context.items() if v not in (None, "")]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return PlainRendering(subject, "\n".join(lines), f"<ul>{items}</ul>")


def renderer_for(settings: Settings) -> outbox.Renderer:
    """The message templates (``fiberdesk.messages.render``) with the operator's branding."""
    try:
        render: Any = importlib.import_module("fiberdesk.messages.render")
    except ImportError:
        log.warning("fiberdesk.messages.render is not available: plain renderings are sent")
        return plain_render
    templates = render.default_templates()
    branding = render.Branding(
        company_name=settings.company_name,
        support_phone=settings.support_phone,
        support_email=settings.support_email,
    )

    def rendered(kind: str, context: dict[str, Any], /) -> outbox.Rendered:
        return cast(outbox.Rendered, templates.render(kind, context, branding))

    return rendered


def build_delivery(app: Fiberdesk) -> outbox.Delivery:
    """The worker's dependencies: the app's senders (or the configured ones if bootstrap
    does not provide them), the templates and the retry policy from the settings."""
    ds = delivery_settings(app.settings)
    email, sms, webhooks = (getattr(app, n, None) for n in ("email", "sms", "webhooks"))
    if email is None or sms is None or webhooks is None:
        email, sms, webhooks = build_senders(ds, app)
    policy = outbox.RetryPolicy(
        max_attempts=ds.outbox_max_attempts,
        base_seconds=ds.outbox_backoff_seconds,
        cap_seconds=ds.outbox_backoff_max_seconds,
        lease_seconds=ds.outbox_lease_seconds,
    )
    return outbox.Delivery(app.uow, email, sms, webhooks, renderer_for(app.settings), policy)


def default_name(suffix: str = "") -> str:
    return f"{socket.gethostname()}:{os.getpid()}{suffix}"[-80:]


@dataclass
class WorkerStats:
    batches: int = 0
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0
    reminders: int = 0
    #: KPI alert checks run, and the alerts they opened
    kpi_checks: int = 0
    kpi_alerts: int = 0
    errors: int = 0

    def add(self, result: outbox.BatchResult) -> None:
        self.batches += 1
        for f in ("sent", "skipped", "retried", "dead", "lost"):
            setattr(self, f, getattr(self, f) + getattr(result, f))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _remind(app: Fiberdesk, deps: outbox.Delivery, actor: Actor) -> int:
    with app.uow() as uow:
        return reminders.queue_appointment_reminders(
            uow,
            actor=actor,
            on=deps.clock().date(),
            company_name=app.settings.company_name,
            support_number=app.settings.support_phone,
        )


def _check_kpis(app: Fiberdesk, deps: outbox.Delivery, actor: Actor) -> int:
    """One KPI alert check; returns the alerts it opened (their messages are queued)."""
    with app.uow() as uow:
        changes = kpis.check_alerts(uow, actor=actor, now=deps.clock(), settings=app.kpi_settings)
    return sum(c.change == "opened" for c in changes)


@dataclass
class _KpiSchedule:
    """When the next KPI alert check is due (never when the interval is 0)."""

    every: timedelta
    due: datetime | None = None

    def ready(self, now: datetime) -> bool:
        return self.every > timedelta(0) and (self.due is None or now >= self.due)


def _kpi_step(
    app: Fiberdesk, deps: outbox.Delivery, actor: Actor, schedule: _KpiSchedule, stats: WorkerStats
) -> None:
    """Run the KPI check when due. A failure is logged and counted, not raised: delivery
    goes on, and the check is tried again at the next interval."""
    now = deps.clock()
    if not schedule.ready(now):
        return
    schedule.due = now + schedule.every
    try:
        stats.kpi_alerts += _check_kpis(app, deps, actor)
        stats.kpi_checks += 1
    except Exception:
        stats.errors += 1
        log.exception("KPI alert check failed; trying again in %s", schedule.every)


def run_worker(
    app: Fiberdesk,
    *,
    name: str,
    batch: int,
    poll_seconds: float,
    stop_event: threading.Event,
    once: bool = False,
    delivery: outbox.Delivery | None = None,
    reminders_job: bool = True,
    wake: threading.Event | None = None,
    kpi_job: bool = True,
) -> WorkerStats:
    """Deliver until ``stop_event`` is set (with ``once``: until nothing is due). Between
    batches it sleeps ``poll_seconds``, or less when ``wake`` is set. With ``kpi_job`` the
    KPI alerts are checked at the start and then every ``kpi_alert_check_minutes``."""
    deps = delivery or build_delivery(app)
    hour = delivery_settings(app.settings).reminder_hour_utc
    minutes = app.settings.kpi_alert_check_minutes if kpi_job else 0.0
    schedule = _KpiSchedule(timedelta(minutes=minutes))
    actor = Actor(name=f"worker:{name}"[:80], role=Role.ADMIN, channel=Channel.WORKER)
    stats = WorkerStats()
    reminded: date | None = None
    log.info("worker %s started (batch %d, poll %.2f s)", name, batch, poll_seconds)
    while not stop_event.is_set():
        try:
            now = deps.clock()
            if reminders_job and reminded != now.date() and now.hour >= hour:
                stats.reminders += _remind(app, deps, actor)
                reminded = now.date()
            _kpi_step(app, deps, actor, schedule, stats)
            result = outbox.deliver_batch(deps, worker=name, limit=batch, stop=stop_event)
        except Exception:
            if once:
                raise
            stats.errors += 1
            log.exception("worker %s: delivery failed; trying again in %.1f s", name, poll_seconds)
            stop_event.wait(max(poll_seconds, 1.0))
            continue
        stats.add(result)
        if result.claimed:
            log.info("worker %s: %s", name, result)
            continue
        if once:
            break
        if wake is None:
            stop_event.wait(poll_seconds)
        else:
            wake.wait(poll_seconds)
            wake.clear()
    return stats


_wake = threading.Event()


def wake() -> None:
    """Wake this process's in-process worker now (e.g. ``uow.on_commit(worker.wake)``)."""
    _wake.set()


def start_in_process(
    app: Fiberdesk, *, delivery: outbox.Delivery | None = None
) -> Callable[[], None]:
    """Start a worker in a daemon thread; returns the function that stops it."""
    ds = delivery_settings(app.settings)
    deps = delivery or build_delivery(app)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(app,),
        kwargs={
            "name": default_name(":in-process"),
            "batch": ds.outbox_batch,
            "poll_seconds": ds.worker_poll_seconds,
            "stop_event": stop,
            "delivery": deps,
            "wake": _wake,
        },
        name="fiberdesk-outbox-worker",
        daemon=True,
    )
    thread.start()

    def stop_worker() -> None:
        stop.set()
        _wake.set()
        thread.join(timeout=deps.policy.lease_seconds / 2)

    return stop_worker


def install_signal_handlers(stop_event: threading.Event) -> None:
    """SIGTERM/SIGINT: finish the message being sent, give back the rest, exit."""

    def handle(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping after the current message", signum)
        stop_event.set()
        signal.signal(signum, signal.SIG_DFL)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


def _close(deps: outbox.Delivery) -> None:
    for sender in (deps.email, deps.sms, deps.webhooks):
        close = getattr(sender, "close", None)
        if callable(close):
            close()


def run_from_command_line(
    app: Fiberdesk, *, batch: int | None, poll: float | None, once: bool, name: str | None
) -> WorkerStats:
    """What ``fiberdesk worker`` and ``python -m fiberdesk.worker`` do."""
    from fiberdesk.db import migrate

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("fiberdesk").setLevel(logging.INFO)
    migrate.require_migrated(app.engine)
    ds = delivery_settings(app.settings)
    stop = threading.Event()
    install_signal_handlers(stop)
    deps = build_delivery(app)
    try:
        return run_worker(
            app,
            name=name or default_name(),
            batch=batch or ds.outbox_batch,
            poll_seconds=ds.worker_poll_seconds if poll is None else poll,
            stop_event=stop,
            once=once,
            delivery=deps,
        )
    finally:
        _close(deps)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fiberdesk.worker", description=__doc__)
    parser.add_argument("--batch", type=int, default=None, help="messages claimed at a time")
    parser.add_argument("--poll", type=float, default=None, help="seconds between polls")
    parser.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    parser.add_argument("--name", default=None, help="worker name in the delivery log")
    args = parser.parse_args(argv)
    from fiberdesk.bootstrap import build

    app = build()
    try:
        stats = run_from_command_line(
            app, batch=args.batch, poll=args.poll, once=args.once, name=args.name
        )
    finally:
        app.close()
    log.info("worker stopped: %s", stats.as_dict())


if __name__ == "__main__":
    main()
