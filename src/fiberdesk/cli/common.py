"""What every CLI command shares: the application, the console, the CLI actor, JSON output."""

from __future__ import annotations

import dataclasses
import getpass
import json
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console

from fiberdesk.bootstrap import Fiberdesk, build
from fiberdesk.domain.users import Actor, Channel, Role

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

_app: Fiberdesk | None = None


def get_app() -> Fiberdesk:
    global _app
    if _app is None:
        _app = build()
    return _app


def reset_app() -> None:
    """Forget the application (tests change settings between invocations)."""
    global _app
    if _app is not None:
        _app.close()
    _app = None


def cli_actor() -> Actor:
    """The CLI is the operator administrator's tool on the server: it acts as admin."""
    return Actor(name=f"cli:{getpass.getuser()}", role=Role.ADMIN, channel=Channel.CLI)


def _default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False)


def print_json(value: Any) -> None:
    print(to_json(value))
