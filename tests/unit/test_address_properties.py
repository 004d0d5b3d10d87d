"""Property tests for the address parser.

1. Any text at all: the parser returns a ``ParsedAddress`` or raises ``AddressParseError``.
2. Well-formed addresses built from known parts, written in random case, with random commas,
   spaces and periods, spelled-out or abbreviated street types and directionals: the parse
   gives back exactly the parts they were built from.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fiberdesk.domain.address import AddressParseError, ParsedAddress, parse_address
from fiberdesk.domain.address.vocabulary import STREET_SUFFIXES, UNIT_DESIGNATORS


def parses_or_is_refused(text: str) -> None:
    """The parser's contract: a ParsedAddress with a street name, or AddressParseError."""
    try:
        parsed = parse_address(text)
    except AddressParseError as error:
        assert str(error)
    else:
        assert isinstance(parsed, ParsedAddress)
        assert parsed.street_name


@given(st.text(max_size=250))
@example("\x00")
@example("1/2 # - , .")
@example("St St St St")
@example("N N N N")
@example("1 # # # APT # UNIT")
@settings(max_examples=500)
def test_any_text_parses_or_is_refused(text: str) -> None:
    parses_or_is_refused(text)


@given(st.text(alphabet="0123456789 #,/-.ANSEWTRDPLCOUMHIYVGK", max_size=60))
def test_address_like_noise_parses_or_is_refused(text: str) -> None:
    parses_or_is_refused(text)


VOCABULARY = [
    *sorted(STREET_SUFFIXES)[::7],
    "N", "NORTH", "NE", "ST", "SAINT", "MT", "APT", "#", "UNIT", "FL", "2ND", "FLOOR", "MD",
    "CT", "NEW", "YORK", "WASHINGTON", "US", "HWY", "ROUTE", "I-95", "12", "1/2", "21208",
    "21208-1234", "4B", "A", ",", "USA", "PO", "BOX", "AVENUE", "H",
]  # fmt: skip


@given(st.lists(st.sampled_from(VOCABULARY), max_size=25))
@settings(max_examples=500)
def test_address_words_in_any_order_parse_or_are_refused(words: list[str]) -> None:
    parses_or_is_refused(" ".join(words))


# --- well-formed addresses ----------------------------------------------------------------

# (normalised name, ways to write it). No name word is a directional or a common suffix.
NAMES = [
    ("MIDDLETOWN", ["Middletown"]),
    ("OLD COURT", ["Old Court"]),
    ("YORK", ["York"]),
    ("PARK HEIGHTS", ["Park Heights"]),
    ("GREEN SPRING VALLEY", ["Green Spring Valley"]),
    ("SAINT MARKS", ["St Marks", "St. Marks", "Saint Marks"]),
    ("MOUNT CARMEL", ["Mt Carmel", "Mt. Carmel", "Mount Carmel"]),
    ("5TH", ["5th", "Fifth"]),
    ("12TH", ["12th", "Twelfth"]),
    ("DULANEY VALLEY", ["Dulaney Valley"]),
    ("MAPLE", ["Maple"]),
]
# (standard, written forms): every written form of every Pub 28 suffix.
SUFFIX_FORMS: dict[str, list[str]] = {}
for _written, _standard in STREET_SUFFIXES.items():
    SUFFIX_FORMS.setdefault(_standard, []).append(_written)
DIRECTIONAL_FORMS = {
    "N": ["N", "N.", "North"],
    "S": ["S", "S.", "South"],
    "E": ["E", "E.", "East"],
    "W": ["W", "W.", "West"],
    "NE": ["NE", "N.E.", "Northeast"],
    "NW": ["NW", "N.W.", "Northwest"],
    "SE": ["SE", "S.E.", "Southeast"],
    "SW": ["SW", "S.W.", "Southwest"],
}
CITIES = ["TOWSON", "BALTIMORE", "PIKESVILLE", "ELLICOTT CITY", "LUTHERVILLE TIMONIUM",
          "WHITE MARSH", "PERRY HALL", "COCKEYSVILLE", "GWYNN OAK", "PARKTON"]  # fmt: skip
STATES = {"MD": ["MD", "Md.", "Maryland"], "PA": ["PA", "Pennsylvania"], "VA": ["VA", "Virginia"],
          "DE": ["DE", "Delaware"], "WV": ["WV", "West Virginia"], "NJ": ["NJ", "New Jersey"],
          "DC": ["DC", "D.C.", "District of Columbia"], "CT": ["CT", "Connecticut"]}  # fmt: skip
UNITS = {"APT": ["Apt", "Apt.", "APARTMENT"], "UNIT": ["#", "# ", "Unit"],
         "STE": ["Ste", "Suite", "STE."], "BLDG": ["Bldg", "Building"]}  # fmt: skip


@dataclass(frozen=True)
class Built:
    text: str
    expected: ParsedAddress


def random_case(draw: st.DrawFn, text: str) -> str:
    style = draw(st.sampled_from(["upper", "lower", "title", "as is", "random"]))
    if style == "upper":
        return text.upper()
    if style == "lower":
        return text.lower()
    if style == "title":
        return text.title()
    if style == "as is":
        return text
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(ch.upper() if flip else ch.lower() for ch, flip in zip(text, flips, strict=True))


@st.composite
def addresses(draw: st.DrawFn) -> Built:
    number = str(draw(st.integers(1, 99999)))
    suffix = draw(st.sampled_from([None, None, None, "A", "B", "1/2"]))
    predir = draw(st.sampled_from([None, None, *DIRECTIONAL_FORMS]))
    name, name_forms = draw(st.sampled_from(NAMES))
    street_type = draw(st.sampled_from(sorted(SUFFIX_FORMS)))
    # Only abbreviated post-directionals: "West" before a city starts the city's name.
    sufdir = draw(st.sampled_from([None, None, None, "N", "S", "E", "W", "NE", "NW", "SE", "SW"]))
    unit_type = draw(st.sampled_from([None, None, *UNITS]))
    unit = draw(st.sampled_from(["4", "4B", "12", "200", "C"]))
    city = draw(st.sampled_from([None, *CITIES]))
    state = draw(st.sampled_from([None, *STATES]))
    zip5 = draw(st.sampled_from([None, "21120", "21208", "17327"]))
    zip4 = draw(st.sampled_from([None, "1234"])) if zip5 else None
    if state == "CT" and city is None:
        state = "MD"  # "12 Elm Ct CT 21120" is ambiguous on purpose: see the hand-written cases

    def sep() -> str:
        return draw(st.sampled_from([" ", "  ", ", ", " , ", ",", " ,, "]))

    def form(options: list[str]) -> str:
        written = draw(st.sampled_from(options))
        if written.isalpha() and len(written) <= 4 and draw(st.booleans()):
            written += "."
        return random_case(draw, written)

    parts = [number]
    if suffix:
        glued = suffix != "1/2" and draw(st.booleans())
        parts = [number + suffix] if glued else [number, suffix]
    street = [form(DIRECTIONAL_FORMS[predir])] if predir else []
    street += [
        random_case(draw, draw(st.sampled_from(name_forms))),
        form(SUFFIX_FORMS[street_type]),
    ]
    if sufdir:
        street.append(form(DIRECTIONAL_FORMS[sufdir][:2]))
    text = " ".join(parts + street)
    if unit_type:
        text += sep() + form(UNITS[unit_type]) + " " + unit
    if city:
        text += sep() + random_case(draw, city)
    if state:
        text += sep() + form(STATES[state])
    if zip5:
        text += sep() + zip5 + (draw(st.sampled_from(["-", "", " "])) + zip4 if zip4 else "")
    expected = ParsedAddress(
        number=number,
        number_suffix=suffix,
        predir=predir,
        street_name=name,
        street_type=street_type,
        sufdir=sufdir,
        unit_type=UNIT_DESIGNATORS[UNITS[unit_type][0].upper()] if unit_type else None,
        unit=unit if unit_type else None,
        city=city,
        state=state,
        zip=zip5,
        zip4=zip4,
    )
    return Built(text, expected)


@given(addresses())
@settings(max_examples=1500)
def test_well_formed_addresses_round_trip(built: Built) -> None:
    assert parse_address(built.text) == built.expected, built.text
