"""Statements with an IN list, built once per length of the list.

SQLAlchemy's expanding ``IN`` (``column.in_(values)``) is rendered again on every
execution, with a cast for each value on PostgreSQL: a noticeable part of a fast request.
A statement here gives each value its own parameter and is built once for each number of
values, so the compiled form is found in SQLAlchemy's cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa


class ByCount:
    """``build(params)`` makes the statement for a list of bound parameters named
    ``{prefix}0``, ``{prefix}1``, ...; ``statement(values)`` gives the statement for that
    many values and the parameters that carry them."""

    #: how many lengths are kept (longer lists are rare: they are built each time)
    MAX_SHAPES = 256

    def __init__(
        self,
        build: Callable[[list[sa.BindParameter[Any]]], Any],
        *,
        prefix: str = "v",
        type_: Any = None,
    ) -> None:
        self._build = build
        self._prefix = prefix
        self._type = type_
        self._shapes: dict[int, Any] = {}
        self._lock = threading.Lock()

    def statement(self, values: Sequence[Any]) -> tuple[Any, dict[str, Any]]:
        if not values:
            raise ValueError("an IN list needs at least one value")
        n = len(values)
        stmt = self._shapes.get(n)
        if stmt is None:
            names = [f"{self._prefix}{i}" for i in range(n)]
            stmt = self._build([sa.bindparam(name, type_=self._type) for name in names])
            if len(self._shapes) < self.MAX_SHAPES:
                with self._lock:
                    self._shapes[n] = stmt
        return stmt, {f"{self._prefix}{i}": v for i, v in enumerate(values)}
