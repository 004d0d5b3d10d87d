"""The parsed address and the error raised when text is not a street address."""

from __future__ import annotations

from dataclasses import dataclass

from fiberdesk.domain.errors import InvalidInput


class AddressParseError(InvalidInput, ValueError):
    """The text is not a street address. ``reason`` says why, in words a customer can read.

    It is a ``ValueError`` and also the domain's ``InvalidInput``, so the web and CLI entry
    points answer it as a bad request without special handling.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="address")


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """A US street address split into the parts of the county premises data.

    Every text field is upper case. ``street_type`` is the USPS Publication 28 standard
    suffix abbreviation ("RD", "AVE"), and ``predir``/``sufdir`` are directional
    abbreviations ("N", "SW"). In ``street_name``, "ST"/"SAINT" before another word is
    written "SAINT", "MT" is written "MOUNT", "FT" "FORT", and ordinal words are written as
    numbers ("FIFTH" -> "5TH"). Missing parts are ``None``.
    """

    number: str | None
    number_suffix: str | None
    predir: str | None
    street_name: str | None
    street_type: str | None
    sufdir: str | None
    unit_type: str | None
    unit: str | None
    city: str | None
    state: str | None
    zip: str | None
    zip4: str | None

    @property
    def street(self) -> str:
        """The assembled street, like the county's ``street`` column: "N MAIN ST NW"."""
        parts = (self.predir, self.street_name, self.street_type, self.sufdir)
        return " ".join(part for part in parts if part)
