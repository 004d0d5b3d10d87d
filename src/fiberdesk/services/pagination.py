"""Pages of results: one way to ask for them, one shape to return them in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from fiberdesk.domain.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    per_page: int = 50

    def __post_init__(self) -> None:
        if self.page < 1:
            raise InvalidInput("page starts at 1", field="page")
        if not 1 <= self.per_page <= MAX_PAGE_SIZE:
            raise InvalidInput(f"per_page must be 1 to {MAX_PAGE_SIZE}", field="per_page")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))
