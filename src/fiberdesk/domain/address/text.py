"""Turning typed address text into upper-case tokens.

``tokenise`` keeps one fact about punctuation that the parser uses: whether a separator (a
comma, semicolon or line break) followed a token. Everything else that carries no meaning is
dropped: periods ("N.E." -> "NE"), apostrophes ("O'Donnell" -> "ODONNELL"), quotes and
brackets. ``#`` is kept as a token of its own, and ``/`` and ``-`` are kept where they sit
next to a digit ("1/2", "21208-1234", "85-23", "12-B", "I-95").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_SEPARATORS = frozenset(",;\n\r|")
_DROPPED = frozenset(".'\u2019\u2018`\u00b4")
_FRACTION_SLASH = "\u2044"


@dataclass(frozen=True, slots=True)
class Token:
    """One word of an address. ``comma`` is true when a separator followed it."""

    text: str
    comma: bool = False


def _fold(raw: str) -> str:
    """Upper case, with accents removed ("Peñasco" -> "PENASCO") and "12½" -> "12 1/2"."""
    spaced = "".join(f" {ch}" if _is_vulgar_fraction(ch) else ch for ch in raw)
    decomposed = unicodedata.normalize("NFKD", spaced).replace(_FRACTION_SLASH, "/")
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return kept.upper()


def _is_vulgar_fraction(ch: str) -> bool:
    return ch > "\x7f" and unicodedata.name(ch, "").startswith("VULGAR FRACTION")


def _joins_digits(text: str, index: int, *, both_sides: bool) -> bool:
    """Whether the character at ``index`` sits between alphanumerics next to a digit."""
    if index == 0 or index == len(text) - 1:
        return False
    before, after = text[index - 1], text[index + 1]
    if not (before.isalnum() and after.isalnum()):
        return False
    if both_sides:
        return before.isdigit() and after.isdigit()
    return before.isdigit() or after.isdigit()


def tokenise(raw: str) -> list[Token]:
    """Split typed text into upper-case tokens, noting where separators were."""
    text = _fold(raw)
    tokens: list[Token] = []
    word: list[str] = []

    def flush(*, comma: bool = False) -> None:
        if word:
            tokens.append(Token("".join(word)))
            word.clear()
        if comma and tokens and not tokens[-1].comma:
            tokens[-1] = Token(tokens[-1].text, comma=True)

    for index, ch in enumerate(text):
        if ch.isalnum():
            word.append(ch)
        elif ch in _DROPPED:
            if ch == "." and _joins_digits(text, index, both_sides=True):
                word.append(ch)
        elif (ch == "/" and _joins_digits(text, index, both_sides=True)) or (
            ch == "-" and _joins_digits(text, index, both_sides=False)
        ):
            word.append(ch)
        elif ch == "#":
            flush()
            tokens.append(Token("#"))
        else:
            flush(comma=ch in _SEPARATORS)
    flush()
    return tokens


def normalise_text(raw: str) -> str:
    """Upper case, single spaces, and no punctuation that carries no meaning.

    ``"  123 n. Main st.,  Apt #4B "`` -> ``"123 N MAIN ST APT # 4B"``. Commas are removed
    too: they help the parser but carry no meaning once the text is compared as a whole.
    """
    return " ".join(token.text for token in tokenise(raw))
