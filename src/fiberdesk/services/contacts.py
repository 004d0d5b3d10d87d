"""Customer contact details: emails checked with email-validator, phones with phonenumbers."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from fiberdesk.domain.errors import InvalidInput


def normalise_email(raw: str, *, field: str = "email") -> str:
    """A syntactically valid address, domain lower-cased (no DNS look-up)."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"{raw!r} is not a valid email address: {exc}", field=field) from None
    return result.normalized


def normalise_phone(raw: str, *, region: str = "US", field: str = "phone") -> str:
    """A valid phone number in E.164 form (+14105550123)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{raw!r} is not a phone number", field=field) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{raw!r} is not a valid phone number", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
