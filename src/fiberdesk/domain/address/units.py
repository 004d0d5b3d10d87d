"""Units ("Apt 4B", "# 4", "Ste 200", "2nd Floor"): finding them anywhere in an address."""

from __future__ import annotations

import re

from fiberdesk.domain.address.text import Token
from fiberdesk.domain.address.vocabulary import ORDINAL_WORDS, UNIT_DESIGNATORS

_UNIT_ID = re.compile(r"[A-Z0-9]*\d[A-Z0-9]*(?:-[A-Z0-9]+)?|[A-Z0-9]+-\d+|[A-Z]")
_GLUED_UNIT = re.compile(r"(APT|UNIT|STE|BLDG|RM|LOT|SPC)(\d+[A-Z]?)")
_ORDINAL = re.compile(r"(\d+)(?:ST|ND|RD|TH)")
_DROPPED_WHEN_ALONE = frozenset({"#", "UNIT", "APT", "APARTMENT"})


def take_units(tokens: list[Token]) -> tuple[list[Token], str | None, str | None]:
    """Remove every unit ("Apt 4B", "# 4", "2nd Floor"); keep the first one found.

    The word before a removed unit is marked as followed by a comma: a unit ends the street.
    """
    kept: list[Token] = []
    found: tuple[str, str] | None = None
    index = 0
    while index < len(tokens):
        unit = _unit_at(tokens, index)
        if unit is None:
            kept.append(tokens[index])
            index += 1
            continue
        unit_type, unit_id, width = unit
        if unit_id and found is None:
            found = (unit_type, unit_id)
        if kept:
            kept[-1] = Token(kept[-1].text, comma=True)
        index += width
    if found is None:
        return kept, None, None
    return kept, found[0], found[1]


def _unit_at(tokens: list[Token], index: int) -> tuple[str, str, int] | None:
    """The unit starting at ``index`` as (type, identifier, tokens used), if any."""
    text = tokens[index].text
    following = tokens[index + 1].text if index + 1 < len(tokens) else ""
    if match := _GLUED_UNIT.fullmatch(text):
        return UNIT_DESIGNATORS[match[1]], match[2], 1
    if following in ("FL", "FLR", "FLOOR"):
        ordinal = _ORDINAL.fullmatch(text)
        if ordinal:
            return "FL", ordinal[1], 2
        if text in ORDINAL_WORDS:
            return "FL", ORDINAL_WORDS[text][:-2], 2
    if text not in UNIT_DESIGNATORS:
        return None
    if text == "#" and following in UNIT_DESIGNATORS and following != "#":
        return "", "", 1  # "#APT 2": drop the "#", the designator follows
    width = 1
    if text != "#" and following == "#" and not tokens[index].comma:
        width, following = 2, tokens[index + 2].text if index + 2 < len(tokens) else ""
    if following and not tokens[index + width - 1].comma and is_unit_id(following):
        return UNIT_DESIGNATORS[text], following, width + 1
    if text in _DROPPED_WHEN_ALONE:
        return "", "", 1  # "Unit" or "#" without an identifier means nothing
    return None


def is_unit_id(text: str) -> bool:
    """A plausible unit identifier: "4", "4B", "A230", "C-5", "1-5" or a single letter."""
    return len(text) <= 8 and _UNIT_ID.fullmatch(text) is not None
