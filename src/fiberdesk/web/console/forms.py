"""Reading console forms and query values: the posted fields, whole numbers, enum members,
and carrying out a form's action so a refusal can show the form again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.datastructures import FormData

from fiberdesk.domain.errors import FiberdeskError, Forbidden, InvalidInput, NotFound
from fiberdesk.web.console.auth import CSRF_FIELD, text


def form_values(form: FormData) -> dict[str, str]:
    """Every posted field but the CSRF token, as stripped text."""
    return {k: text(form, k) for k in form if k != CSRF_FIELD}


def typed_values(form: FormData) -> dict[str, str]:
    """Every text field as typed (not stripped), to show a refused form again."""
    return {k: v for k, v in form.items() if isinstance(v, str)}


def on_slot(errors: dict[str, str]) -> dict[str, str]:
    """A refused booking's reason beside the window chosen (``slot``) when the service
    named the day, the window or nothing."""
    if "_" in errors or "day" in errors or "window" in errors:
        return {"slot": next(iter(errors.values()))}
    return errors


def fields(form: FormData, *names: str) -> dict[str, str]:
    """The named fields as stripped text ('' when absent)."""
    return {k: text(form, k) for k in names}


def whole_number(value: str | None, field: str, what: str) -> int | None:
    """``value`` as a whole number from 1; None when empty."""
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit() or int(value) < 1:
        raise InvalidInput(f"{what} is a whole number from 1", field=field)
    return int(value)


def enum_value(cls: Any, value: str | None, field: str, what: str) -> Any:
    """The member of ``cls`` named by ``value`` (any case); None when empty."""
    if not value:
        return None
    try:
        return cls(value.strip().upper())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a {what}", field=field) from None


def enum_options(cls: Any) -> list[tuple[str, str]]:
    """A select's options for an enum with labels: (value, label)."""
    return [(m.value, m.label) for m in cls]


def attempt(
    form: FormData, action: Callable[[dict[str, str]], None]
) -> tuple[dict[str, str], FiberdeskError | None]:
    """Carry out ``action`` on the form's values: the values and the refusal (None when
    done). Forbidden and NotFound propagate to the 403 and 404 pages."""
    values = form_values(form)
    try:
        action(values)
    except (Forbidden, NotFound):
        raise
    except FiberdeskError as exc:
        return values, exc
    return values, None
