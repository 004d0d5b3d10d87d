"""E-mail over SMTP (the standard library's ``smtplib``).

One connection is opened on the first send and reused for the following ones (a busy outbox
sends thousands of messages; a connection per message would spend most of its time in
handshakes). It is reopened after ``idle_seconds`` without use, after ``max_per_connection``
messages, and after any failure that may have left it in an unknown state. Sends through one
sender are serialised by a lock: give each worker thread its own sender.

How replies map onto the outbox's outcomes:

- the server accepts the message: returns ``"250 ..."`` for the delivery log;
- a 5xx reply to MAIL FROM, RCPT TO or DATA: ``RejectedError`` (dead letter);
- a 4xx reply, a refused or dropped connection, a timeout: ``DeliveryError`` (retry);
- a failure while connecting or logging in (greeting refused, STARTTLS or authentication
  failed): ``DeliveryError`` whatever the code, because it is about this server's
  configuration, not the message; the messages wait while the operator fixes it.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
import time
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from fiberdesk.adapters.notifications.base import DeliveryError, RejectedError

#: headers the sender sets itself; a caller's ``headers`` cannot replace them
_OWN_HEADERS = frozenset({"from", "to", "subject", "message-id", "date"})


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


class SmtpEmailSender:
    """Sends mail through one SMTP server (a relay, a provider, or a local MTA)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        mail_from: str,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
        idle_seconds: float = 30.0,
        max_per_connection: int = 500,
    ) -> None:
        self.host = host
        self.port = port
        self.mail_from = mail_from
        self.user = user
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.idle_seconds = idle_seconds
        self.max_per_connection = max_per_connection
        self._envelope_from = parseaddr(mail_from)[1] or mail_from
        domain = self._envelope_from.rpartition("@")[2]
        self.domain = domain or "fiberdesk.invalid"
        self._lock = threading.Lock()
        self._conn: smtplib.SMTP | None = None
        self._sent_on_conn = 0
        self._last_used = 0.0

    def message_id(self, delivery_id: str) -> str:
        """The Message-ID header for a delivery id: the same for every try of a message."""
        return f"<{delivery_id}@{self.domain}>"

    def build(
        self,
        to: str,
        subject: str,
        text: str,
        html: str,
        message_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.mail_from
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = self.message_id(message_id)
        msg["Date"] = formatdate(usegmt=True)
        msg["Auto-Submitted"] = "auto-generated"
        for name, value in (headers or {}).items():
            if name.lower() in _OWN_HEADERS:
                continue
            del msg[name]
            msg[name] = value
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
        return msg

    def send(
        self,
        to: str,
        subject: str,
        text: str,
        html: str,
        message_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        msg = self.build(to, subject, text, html, message_id, headers)
        with self._lock:
            conn = self._connection()
            try:
                conn.send_message(msg, from_addr=self._envelope_from, to_addrs=[to])
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                raise self._refusal(code, reply) from None
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code == 421:  # the server is closing the connection
                    self._drop()
                raise self._refusal(exc.smtp_code, exc.smtp_error) from None
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                detail = exc or type(exc).__name__
                raise DeliveryError(f"SMTP {self.host}:{self.port}: {detail}") from None
            self._sent_on_conn += 1
            self._last_used = time.monotonic()
            return f"250 accepted by {self.host}:{self.port}"

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._conn.quit()
            self._drop()

    def _refusal(self, code: int, reply: bytes | str) -> Exception:
        text = _reply(code, reply)
        if 500 <= code < 600:
            return RejectedError(f"SMTP refused: {text}")
        return DeliveryError(f"SMTP deferred: {text}")

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None
        self._sent_on_conn = 0

    def _connection(self) -> smtplib.SMTP:
        stale = time.monotonic() - self._last_used > self.idle_seconds
        if self._conn is not None and (stale or self._sent_on_conn >= self.max_per_connection):
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
            self._drop()
        if self._conn is not None:
            return self._conn
        conn: smtplib.SMTP | None = None
        try:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.starttls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.user:
                conn.login(self.user, self.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.close()
            raise DeliveryError(
                f"SMTP {self.host}:{self.port} unavailable: {exc or type(exc).__name__}"
            ) from None
        self._conn = conn
        self._sent_on_conn = 0
        self._last_used = time.monotonic()
        return conn
