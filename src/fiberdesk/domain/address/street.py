"""Deciding where the street ends: every split of the words is read and scored.

The words between the house number and the state are ``[predir] name [suffix] [sufdir]
[unit] [city]``. Every street suffix word is tried as the end of the street. A reading gains
when a comma follows the street, or (with no state or ZIP) when the text ends there, and when
its suffix is a strong one ("ST", "RD", "AVE"); it loses for a comma inside the street and
for strong suffix words inside the name or the city. The best score wins, the later suffix on
a tie. Numbered highways ("Route 40") and lettered avenues ("Avenue H") are names without a
suffix and win outright; a name with no suffix at all is the last resort.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from fiberdesk.domain.address.text import Token
from fiberdesk.domain.address.units import is_unit_id
from fiberdesk.domain.address.vocabulary import (
    DIRECTIONALS,
    HIGHWAY_PREFIXES,
    HIGHWAY_WORDS,
    PRETYPE_WORDS,
    STREET_SUFFIXES,
    STRONG_SUFFIX_WORDS,
)

_ROUTE_NUMBER = re.compile(r"\d+[A-Z]?")
_INTERSTATE = re.compile(r"I-?(\d+)")
_LETTER_OR_NUMBER = re.compile(r"[A-Z]|\d+")
# Scores of a reading. They were set by hand against the labelled strings in tests/data; the
# agreement test there shows what a change does. A weak suffix ("PARK", "MILLS") scores 0, and
# so does "ST" followed by a name word, which may be the "St" of "St Louis".
_COMMA_BONUS, _END_BONUS, _STRONG_BONUS, _NUMBERED_BONUS = 4, 1, 2, 6
_COMMA_INSIDE_PENALTY, _STRONG_ELSEWHERE_PENALTY, _UNTYPED_PENALTY, _SAINT_LIKE_SCORE = 5, 3, 1, 0


@dataclass(frozen=True, slots=True)
class Street:
    """One reading of the words between the house number and the state.

    ``position`` is the index of the street's last word (-1 for a name without a suffix),
    used to prefer the later suffix on a tie. ``typed`` says a suffix or a numbered name was
    found; ``numbered`` that the name is a highway or lettered avenue, kept as written.
    """

    score: int
    position: int
    predir: str | None
    name: tuple[str, ...]
    street_type: str | None
    sufdir: str | None
    unit: str | None
    city: tuple[Token, ...]
    typed: bool
    numbered: bool


def plain_word(text: str) -> bool:
    """A word that is neither a directional nor a street suffix, such as a name or city word."""
    return text not in DIRECTIONALS and text not in STREET_SUFFIXES and text.isalpha()


def best_street(middle: list[Token], *, has_tail: bool) -> Street | None:
    """The best-scoring reading of ``middle``; ``has_tail`` if a state or ZIP followed it."""
    best: Street | None = None
    for street in _readings(_Middle(middle, [token.text for token in middle], has_tail)):
        if best is None or (street.score, street.position) > (best.score, best.position):
            best = street
    return best


@dataclass(frozen=True, slots=True)
class _Middle:
    """The words between house number and state; ``has_tail`` if a state or ZIP followed."""

    tokens: list[Token]
    texts: list[str]
    has_tail: bool


def _readings(middle: _Middle) -> Iterator[Street]:
    """Every plausible split of the middle words into street and city."""
    texts, count = middle.texts, len(middle.texts)
    if count == 0:
        return
    lead_dir = count >= 2 and texts[0] in DIRECTIONALS and not middle.tokens[0].comma
    for start in (1, 0) if lead_dir else (0,):
        numbered = _numbered_name(texts, start)
        if numbered is not None:
            words, end = numbered
            yield _reading(middle, start, end - 1, end, words, None)
            break
    for index in range(1, count):
        if texts[index] in STREET_SUFFIXES:
            start = 1 if lead_dir and index >= 2 else 0
            name = tuple(texts[start:index])
            yield _reading(middle, start, index, index + 1, name, texts[index])
    start = 1 if lead_dir else 0
    end = start
    while end < count:
        end += 1
        if middle.tokens[end - 1].comma:
            break
    yield _reading(middle, start, end - 1, end, tuple(texts[start:end]), None, untyped=True)


def _reading(
    middle: _Middle,
    start: int,
    anchor: int,
    after: int,
    name: tuple[str, ...],
    suffix: str | None,
    *,
    untyped: bool = False,
) -> Street:
    """Score one split: the street is ``middle[start:after]``, the city what follows.

    ``anchor`` is the index of the street's last word: its suffix, or the end of a name
    without one.
    """
    tokens, texts, count = middle.tokens, middle.texts, len(middle.texts)
    sufdir = unit = None
    if untyped:
        if len(name) >= 2 and name[-1] in DIRECTIONALS:
            name, sufdir = name[:-1], DIRECTIONALS[name[-1]]
    else:
        sufdir, after = _sufdir_at(middle, after)
        if after < count and _is_bare_unit(texts[after]):
            unit = texts[after]
            after += 1
    score = _base_score(middle, anchor, suffix, untyped=untyped)
    if not untyped:  # an untyped name runs to the first comma anyway: no evidence
        if any(token.comma for token in tokens[anchor:after]):
            score += _COMMA_BONUS
        elif after == count and not middle.has_tail:
            score += _END_BONUS
    score -= _COMMA_INSIDE_PENALTY * sum(token.comma for token in tokens[start:anchor])
    score -= _STRONG_ELSEWHERE_PENALTY * (
        sum(word in STRONG_SUFFIX_WORDS for word in name[1:])
        + sum(_strong_in_city(texts, index) for index in range(after, count))
    )
    score -= sum(
        name[index] in STREET_SUFFIXES and plain_word(name[index + 1])
        for index in range(1, len(name) - 1)
    )
    return Street(
        score=score,
        position=-1 if untyped else anchor,
        predir=DIRECTIONALS[texts[0]] if start else None,
        name=name,
        street_type=STREET_SUFFIXES[suffix] if suffix else None,
        sufdir=sufdir,
        unit=unit,
        city=tuple(tokens[after:]),
        typed=not untyped,
        numbered=not untyped and suffix is None,
    )


def _sufdir_at(middle: _Middle, index: int) -> tuple[str | None, int]:
    """The post-directional starting at ``index``, and the index after it.

    An abbreviation ("NW", "N", "N E") right after the suffix is a post-directional. A
    spelled-out one ("West") followed by more words starts the city ("West Palm Beach"),
    and after a comma only "NE"/"NW"/"SE"/"SW" or a directional standing alone counts.
    """
    tokens, texts, count = middle.tokens, middle.texts, len(middle.texts)
    if index >= count or texts[index] not in DIRECTIONALS:
        return None, index
    word, following = texts[index], texts[index + 1] if index + 1 < count else ""
    if word in ("N", "S") and following in ("E", "W") and not tokens[index].comma:
        return DIRECTIONALS[word + following], index + 2
    alone = tokens[index].comma or index + 1 == count
    abbreviated = len(word) == 2 if tokens[index - 1].comma else len(word) <= 2
    return (DIRECTIONALS[word], index + 1) if alone or abbreviated else (None, index)


def _base_score(middle: _Middle, anchor: int, suffix: str | None, *, untyped: bool) -> int:
    if untyped:
        return -_UNTYPED_PENALTY
    if suffix is None:
        return _NUMBERED_BONUS
    if suffix == "ST" and _saint_follows(middle, anchor):
        return _SAINT_LIKE_SCORE
    return _STRONG_BONUS if suffix in STRONG_SUFFIX_WORDS else 0


def _saint_follows(middle: _Middle, index: int) -> bool:
    """Whether the "ST" at ``index`` may be "Saint" of a following name ("St Louis")."""
    following = index + 1
    return (
        following < len(middle.texts)
        and not middle.tokens[index].comma
        and plain_word(middle.texts[following])
    )


def _strong_in_city(texts: list[str], index: int) -> bool:
    if texts[index] == "ST" and index + 1 < len(texts) and plain_word(texts[index + 1]):
        return False
    return texts[index] in STRONG_SUFFIX_WORDS


def _is_bare_unit(text: str) -> bool:
    """A unit written without a designator right after the street: "600", "C-5", "B"."""
    return text not in DIRECTIONALS and is_unit_id(text)


def _numbered_name(texts: list[str], start: int) -> tuple[tuple[str, ...], int] | None:
    """A highway or lettered avenue starting at ``start``: ("ROUTE", "40"), end index."""
    if start >= len(texts):
        return None
    if match := _INTERSTATE.fullmatch(texts[start]):
        return ("INTERSTATE", match[1]), start + 1
    index, words = start, []
    after = texts[index + 1] if index + 1 < len(texts) else ""
    if texts[index] in HIGHWAY_PREFIXES and (texts[index] != "ST" or after in HIGHWAY_WORDS):
        words.append(HIGHWAY_PREFIXES[texts[index]])
        index += 1
    if index < len(texts) and texts[index] in HIGHWAY_WORDS:
        if texts[index] in ("ROAD", "RD") and not words:
            return None
        words.append(HIGHWAY_WORDS[texts[index]])
        index += 1
    elif not words and texts[index] in PRETYPE_WORDS:
        if index + 1 < len(texts) and _LETTER_OR_NUMBER.fullmatch(texts[index + 1]):
            return (PRETYPE_WORDS[texts[index]], texts[index + 1]), index + 2
        return None
    if words and index < len(texts) and _ROUTE_NUMBER.fullmatch(texts[index]):
        return (*words, texts[index]), index + 1
    return None
