"""Parsing and normalising free-text US street addresses (standard library only).

>>> parse_address("21715 A Middletown Rd, Parkton MD 21120").street
'MIDDLETOWN RD'
"""

from __future__ import annotations

from fiberdesk.domain.address.model import AddressParseError, ParsedAddress
from fiberdesk.domain.address.parser import MAX_LENGTH, parse_address
from fiberdesk.domain.address.text import normalise_text

__all__ = ["MAX_LENGTH", "AddressParseError", "ParsedAddress", "normalise_text", "parse_address"]
