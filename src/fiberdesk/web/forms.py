"""Signed form tokens: a hidden field proving a form came from us, recently."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(secret: str, purpose: str, now: float | None = None) -> str:
    issued = str(int(time.time() if now is None else now))
    mac = hmac.new(secret.encode(), f"{purpose}|{issued}".encode(), hashlib.sha256).hexdigest()
    return f"{issued}.{mac[:32]}"


def verify(
    secret: str, purpose: str, token: str, *, max_age_s: int, now: float | None = None
) -> bool:
    issued, _, mac = token.partition(".")
    if not issued.isdigit():
        return False
    expected = hmac.new(
        secret.encode(), f"{purpose}|{issued}".encode(), hashlib.sha256
    ).hexdigest()[:32]
    age = (time.time() if now is None else now) - int(issued)
    return hmac.compare_digest(mac, expected) and 0 <= age <= max_age_s
