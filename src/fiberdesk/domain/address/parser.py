"""Parsing typed US street addresses.

The parser peels fixed parts off both ends, then decides where the street ends:

1. From the end: a country ("USA"), then the ZIP (``21208``, ``21208-1234``, ``212081234``).
2. Units with their identifier, wherever they are ("Apt 4B", "# 4", "Ste 200", "2nd Floor";
   see ``units``). A unit also ends the street, as a comma does.
3. From the start: the house number, with a letter or fraction suffix ("12B", "21715 A",
   "123 1/2").
4. From the end: the state, as a code or a full name. A code that is also a street word
   ("CT" court, "NE" northeast, "MT" mount) is a state only before a ZIP of that state,
   after a comma, or when a city sits between a street suffix and it ("10 Elm St Hartford CT").
5. What is left is ``[predir] name [suffix] [sufdir] [unit] [city]``; ``street`` scores every
   split of it and keeps the best.

There is no gazetteer, so the city is simply the words after the street, up to the next comma.
Street and city names are normalised the way the Baltimore County premises data writes them:
"ST"/"SAINT" before another word becomes "SAINT", "MT" "MOUNT", "FT" "FORT", and ordinal
words become numbers ("FIFTH" -> "5TH", and a bare "26" before a suffix -> "26TH").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from fiberdesk.domain.address.model import AddressParseError, ParsedAddress
from fiberdesk.domain.address.street import Street, best_street, plain_word
from fiberdesk.domain.address.text import Token, tokenise
from fiberdesk.domain.address.units import take_units
from fiberdesk.domain.address.vocabulary import (
    AMBIGUOUS_STATE_CODES,
    AMBIGUOUS_STATE_ZIPS,
    CITY_LIKE_STATES,
    COUNTRY_WORDS,
    DIRECTIONALS,
    NAME_ABBREVIATIONS,
    ORDINAL_WORDS,
    STATE_CODES,
    STATES,
    STREET_SUFFIXES,
)

MAX_LENGTH = 200

_HOUSE_NUMBER = re.compile(r"\d+(?:-\d+)?")
_NUMBER_AND_LETTER = re.compile(r"(\d+)-?([A-Z])")
_FRACTION = re.compile(r"\d/\d{1,2}")
_ZIP = re.compile(r"(\d{5})(?:-?(\d{4}))?")
_STATE_AND_ZIP = re.compile(r"([A-Z]{2})(\d{5})(?:-(\d{4}))?")
_PO_BOX_STARTS = (("PO", "BOX"), ("P", "O", "BOX"), ("POST", "OFFICE", "BOX"), ("POB",), ("POBOX",))
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_ORDINAL_ENDINGS = {1: "ST", 2: "ND", 3: "RD"}


def parse_address(raw: str) -> ParsedAddress:
    """Split a typed US street address into normalised parts.

    Raises ``AddressParseError`` when the text is empty, longer than 200 characters, holds
    control characters or no letters, is a PO box, or has neither a house number nor a
    street suffix.
    """
    tokens = tokenise(_checked_text(raw))
    if not any(ch.isalpha() for token in tokens for ch in token.text):
        raise AddressParseError("the address has no letters in it")
    texts = tuple(token.text for token in tokens)
    box_number = len(texts) > 1 and (texts[1] == "#" or texts[1][:1].isdigit())
    if any(texts[: len(start)] == start for start in _PO_BOX_STARTS) or (
        texts[0] == "BOX" and box_number
    ):
        raise AddressParseError("a PO box is not a street address")
    if texts[0] == "#" and len(texts) > 2 and not _HOUSE_NUMBER.fullmatch(texts[2]):
        tokens = tokens[1:]  # "#2 Turner Rd": the "#" marks the house number
    tokens, zip5, zip4 = _take_zip(tokens)
    tokens, unit_type, unit = take_units(tokens)
    number, number_suffix, rest = _take_number(tokens)
    rest, state = _take_state(rest, zip5)
    best: tuple[int, int, int] | None = None
    chosen: tuple[str | None, Street] | None = None
    for rank, (suffix, middle) in enumerate(_suffix_options(number_suffix, rest)):
        street = best_street(middle, has_tail=state is not None or zip5 is not None)
        if street is None:
            continue
        key = (street.score, -rank, street.position)
        if best is None or key > best:
            best, chosen = key, (suffix, street)
    if chosen is None:
        raise AddressParseError("no street name found")
    number_suffix, street = chosen
    if number is None and not street.typed:
        raise AddressParseError("no street address found")
    return ParsedAddress(
        number=number,
        number_suffix=number_suffix,
        predir=street.predir,
        street_name=_street_name(street),
        street_type=street.street_type,
        sufdir=street.sufdir,
        unit_type=unit_type if unit else None,
        unit=unit or street.unit,
        city=_city(street.city),
        state=state,
        zip=zip5,
        zip4=zip4,
    )


def _checked_text(raw: object) -> str:
    if not isinstance(raw, str):
        raise AddressParseError("the address must be text")
    if not raw.strip():
        raise AddressParseError("the address is empty")
    if len(raw) > MAX_LENGTH:
        raise AddressParseError(f"the address is longer than {MAX_LENGTH} characters")
    for ch in raw:
        if ch in _ALLOWED_CONTROLS:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch == "\ufffd":
            raise AddressParseError("the address contains control or binary characters")
    return raw


def _take_zip(tokens: list[Token]) -> tuple[list[Token], str | None, str | None]:
    """Remove a trailing country and ZIP (or ZIP+4)."""
    rest = _without_country(tokens)
    if len(rest) < 2:
        return rest, None, None
    last = rest[-1].text
    if len(rest) >= 3 and re.fullmatch(r"\d{4}", last) and re.fullmatch(r"\d{5}", rest[-2].text):
        return _without_country(rest[:-2]), rest[-2].text, last
    if match := _ZIP.fullmatch(last):
        return _without_country(rest[:-1]), match[1], match[2]
    match = _STATE_AND_ZIP.fullmatch(last)
    if match and match[1] in STATE_CODES:
        return [*rest[:-1], Token(match[1])], match[2], match[3]
    return rest, None, None


def _without_country(tokens: list[Token]) -> list[Token]:
    texts = tuple(token.text for token in tokens)
    for words in COUNTRY_WORDS:
        if len(texts) > len(words) and texts[-len(words) :] == words:
            return tokens[: -len(words)]
    if len(texts) > 2 and texts[-1] == "US" and (texts[-2] in STATE_CODES or texts[-2].isdigit()):
        return tokens[:-1]
    return tokens


def _take_number(tokens: list[Token]) -> tuple[str | None, str | None, list[Token]]:
    """Remove the house number and a suffix written onto it ("12B", "12-B")."""
    if len(tokens) < 2:
        return None, None, tokens
    first = tokens[0].text
    if _HOUSE_NUMBER.fullmatch(first):
        return first, None, tokens[1:]
    if match := _NUMBER_AND_LETTER.fullmatch(first):
        return match[1], match[2], tokens[1:]
    return None, None, tokens


def _suffix_options(
    fixed_suffix: str | None, rest: list[Token]
) -> Iterator[tuple[str | None, list[Token]]]:
    """Readings of the word after the house number, most specific first."""
    if fixed_suffix is not None or not rest:
        yield fixed_suffix, rest
        return
    first = rest[0].text
    if _FRACTION.fullmatch(first) and len(rest) > 1:
        yield first, rest[1:]
        return
    if len(first) == 1 and first.isalpha() and first not in DIRECTIONALS and len(rest) > 1:
        yield first, rest[1:]
    yield None, rest


def _take_state(tokens: list[Token], zip5: str | None) -> tuple[list[Token], str | None]:
    """Remove the state from the end, if the words there are one."""
    for size in (4, 3, 2, 1):
        if len(tokens) <= size:
            continue
        words = " ".join(token.text for token in tokens[-size:])
        code = STATES.get(words) or (words if size == 1 and words in STATE_CODES else None)
        if code is None:
            continue
        rest = tokens[:-size]
        ambiguous = words in AMBIGUOUS_STATE_CODES or words in CITY_LIKE_STATES
        if ambiguous and not (
            _zip_in_state(zip5, words) or rest[-1].comma or _has_city_before(rest)
        ):
            continue
        return rest, code
    return tokens, None


def _zip_in_state(zip5: str | None, words: str) -> bool:
    """Whether a ZIP was given and, for an ambiguous code, lies in that state."""
    if zip5 is None:
        return False
    ranges = AMBIGUOUS_STATE_ZIPS.get(words)
    return ranges is None or any(low <= zip5[:3] <= high for low, high in ranges)


def _has_city_before(tokens: Sequence[Token]) -> bool:
    """Whether some street suffix (not the first word) is followed by a non-street word."""
    for index in range(1, len(tokens)):
        if tokens[index].text in STREET_SUFFIXES:
            after = tokens[index + 1 :]
            if any(plain_word(token.text) for token in after):
                return True
    return False


def _street_name(street: Street) -> str:
    words = list(street.name)
    if street.numbered:
        return " ".join(words)
    for index, word in enumerate(words):
        words[index] = ORDINAL_WORDS.get(word, NAME_ABBREVIATIONS.get(word, word))
        if word == "ST" and index + 1 < len(words):
            words[index] = "SAINT"
    if len(words) == 1 and words[0].isdigit() and street.street_type:
        words[0] = _ordinal(int(words[0]))
    return " ".join(words)


def _ordinal(value: int) -> str:
    ending = "TH" if value % 100 in (11, 12, 13) else _ORDINAL_ENDINGS.get(value % 10, "TH")
    return f"{value}{ending}"


def _city(tokens: tuple[Token, ...]) -> str | None:
    """The first comma-separated group of the words after the street."""
    words: list[str] = []
    for token in tokens:
        words.append(token.text)
        if token.comma:
            break
    if not words:
        return None
    if len(words) > 1 and words[0] in ("ST", "SAINT", "MT", "FT"):
        words[0] = "SAINT" if words[0] == "ST" else NAME_ABBREVIATIONS[words[0]]
    return " ".join(words)
