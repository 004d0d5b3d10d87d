"""Hand-written cases for the address parser: the messy ways people type an address."""

from __future__ import annotations

from typing import Any

import pytest

from fiberdesk.domain.address import (
    MAX_LENGTH,
    AddressParseError,
    ParsedAddress,
    normalise_text,
    parse_address,
)
from fiberdesk.domain.errors import InvalidInput


def parts(**fields: str) -> dict[str, str]:
    return fields


# Each case: the typed text, then the fields it must parse to. Fields not named must be None.
CASES: list[tuple[str, dict[str, str]]] = [
    # Baltimore County addresses as the county writes them, and as people type them
    (
        "21715 A Middletown Rd, Parkton MD 21120",
        parts(number="21715", number_suffix="A", street_name="MIDDLETOWN", street_type="RD",
              city="PARKTON", state="MD", zip="21120"),
    ),
    (
        "21715 a middletown road parkton md 21120",
        parts(number="21715", number_suffix="A", street_name="MIDDLETOWN", street_type="RD",
              city="PARKTON", state="MD", zip="21120"),
    ),
    (
        "1 N Point Blvd Dundalk MD 21224",
        parts(number="1", predir="N", street_name="POINT", street_type="BLVD", city="DUNDALK",
              state="MD", zip="21224"),
    ),
    (
        "1 North Point Boulevard, Dundalk, Maryland 21224",
        parts(number="1", predir="N", street_name="POINT", street_type="BLVD", city="DUNDALK",
              state="MD", zip="21224"),
    ),
    (
        "8 old court rd pikesville md 21208-1234",
        parts(number="8", street_name="OLD COURT", street_type="RD", city="PIKESVILLE",
              state="MD", zip="21208", zip4="1234"),
    ),
    (
        "8 OLD COURT ROAD   PIKESVILLE,MD 212081234",
        parts(number="8", street_name="OLD COURT", street_type="RD", city="PIKESVILLE",
              state="MD", zip="21208", zip4="1234"),
    ),
    (
        "  8   Old   Court Rd ,, Pikesville ,md  21208 ",
        parts(number="8", street_name="OLD COURT", street_type="RD", city="PIKESVILLE",
              state="MD", zip="21208"),
    ),
    (
        "10 Main St Owings Mills MD 21117",
        parts(number="10", street_name="MAIN", street_type="ST", city="OWINGS MILLS", state="MD",
              zip="21117"),
    ),
    (
        "10 Main Street, Owings Mills, MD",
        parts(number="10", street_name="MAIN", street_type="ST", city="OWINGS MILLS", state="MD"),
    ),
    (
        "11 Schilling Rd Hunt Valley MD 21031",
        parts(number="11", street_name="SCHILLING", street_type="RD", city="HUNT VALLEY",
              state="MD", zip="21031"),
    ),
    (
        "12 Maple Garth Lutherville Timonium MD 21093",
        parts(number="12", street_name="MAPLE", street_type="GRTH", city="LUTHERVILLE TIMONIUM",
              state="MD", zip="21093"),
    ),
    (
        "1 Mt Carmel Rd Parkton MD",
        parts(number="1", street_name="MOUNT CARMEL", street_type="RD", city="PARKTON",
              state="MD"),
    ),
    (
        "3 Blue Mount Rd, Monkton, MD 21111",
        parts(number="3", street_name="BLUE MOUNT", street_type="RD", city="MONKTON", state="MD",
              zip="21111"),
    ),
    (
        "1 N. Charles St., Baltimore, MD 21201, USA",
        parts(number="1", predir="N", street_name="CHARLES", street_type="ST", city="BALTIMORE",
              state="MD", zip="21201"),
    ),
    # street suffix words that are also names, and directionals that are names
    ("123 North Ave", parts(number="123", street_name="NORTH", street_type="AVE")),
    ("12 E St", parts(number="12", street_name="E", street_type="ST")),
    ("100 Park Ave", parts(number="100", street_name="PARK", street_type="AVE")),
    ("100 N Park Ave", parts(number="100", predir="N", street_name="PARK", street_type="AVE")),
    ("45 Court St", parts(number="45", street_name="COURT", street_type="ST")),
    ("45 Harbor Ct", parts(number="45", street_name="HARBOR", street_type="CT")),
    (
        "10 Elm St Hartford CT",
        parts(number="10", street_name="ELM", street_type="ST", city="HARTFORD", state="CT"),
    ),
    ("123 Main St NE", parts(number="123", street_name="MAIN", street_type="ST", sufdir="NE")),
    # a state code that is also a street word is a state only where the ZIP or a city says so
    (
        "123 Main St NE 20002",
        parts(number="123", street_name="MAIN", street_type="ST", sufdir="NE", zip="20002"),
    ),
    (
        "123 Main St NE 68025",
        parts(number="123", street_name="MAIN", street_type="ST", state="NE", zip="68025"),
    ),
    (
        "12 Elm Ct CT 06103",
        parts(number="12", street_name="ELM", street_type="CT", state="CT", zip="06103"),
    ),
    (
        "12 Elm Ct 21120",
        parts(number="12", street_name="ELM", street_type="CT", zip="21120"),
    ),
    (
        "8128 S. Dr Martin Luther King Jr Dr",
        parts(number="8128", predir="S", street_name="DR MARTIN LUTHER KING JR",
              street_type="DR"),
    ),
    # Saint: "St" before a name word is written SAINT
    ("101 St Marks Pl", parts(number="101", street_name="SAINT MARKS", street_type="PL")),
    (
        "101 Saint Marks Place, New York, NY 10009",
        parts(number="101", street_name="SAINT MARKS", street_type="PL", city="NEW YORK",
              state="NY", zip="10009"),
    ),
    (
        "412 St. Patrick St, donaldsonville, la",
        parts(number="412", street_name="SAINT PATRICK", street_type="ST",
              city="DONALDSONVILLE", state="LA"),
    ),
    (
        "20 Benton Pl St Louis, MO 63104",
        parts(number="20", street_name="BENTON", street_type="PL", city="SAINT LOUIS",
              state="MO", zip="63104"),
    ),
    # directionals before and after, abbreviated and spelled out
    (
        "123 Main St NW",
        parts(number="123", street_name="MAIN", street_type="ST", sufdir="NW"),
    ),
    (
        "123 Main Street Northwest, Washington, DC 20001",
        parts(number="123", street_name="MAIN", street_type="ST", sufdir="NW", city="WASHINGTON",
              state="DC", zip="20001"),
    ),
    (
        "1105 Bolton Road, N.W. Atlanta, GA 30331",
        parts(number="1105", street_name="BOLTON", street_type="RD", sufdir="NW", city="ATLANTA",
              state="GA", zip="30331"),
    ),
    (
        "1600 Pennsylvania Ave NW Washington DC 20500",
        parts(number="1600", street_name="PENNSYLVANIA", street_type="AVE", sufdir="NW",
              city="WASHINGTON", state="DC", zip="20500"),
    ),
    (
        "1600 Pennsylvania Avenue Washington",
        parts(number="1600", street_name="PENNSYLVANIA", street_type="AVE", city="WASHINGTON"),
    ),
    (
        "715 spencer dr. west palm beach fl 33409",
        parts(number="715", street_name="SPENCER", street_type="DR", city="WEST PALM BEACH",
              state="FL", zip="33409"),
    ),
    (
        "601 Sligh Blvd N E Grand Rapids, MI 49505",
        parts(number="601", street_name="SLIGH", street_type="BLVD", sufdir="NE",
              city="GRAND RAPIDS", state="MI", zip="49505"),
    ),
    ("30 w 26 st", parts(number="30", predir="W", street_name="26TH", street_type="ST")),
    # units in every form
    (
        "123 N Main St Apt 4",
        parts(number="123", predir="N", street_name="MAIN", street_type="ST", unit_type="APT",
              unit="4"),
    ),
    ("123 Main St #4", parts(number="123", street_name="MAIN", street_type="ST",
                             unit_type="UNIT", unit="4")),
    ("123 Main St # 4", parts(number="123", street_name="MAIN", street_type="ST",
                              unit_type="UNIT", unit="4")),
    ("123 Main St Unit 4", parts(number="123", street_name="MAIN", street_type="ST",
                                 unit_type="UNIT", unit="4")),
    ("123 Main St Ste 4", parts(number="123", street_name="MAIN", street_type="ST",
                                unit_type="STE", unit="4")),
    ("123 Main St, APT # 7", parts(number="123", street_name="MAIN", street_type="ST",
                                   unit_type="APT", unit="7")),
    (
        "123 Main St. APT. 4B, Towson MD 21204",
        parts(number="123", street_name="MAIN", street_type="ST", unit_type="APT", unit="4B",
              city="TOWSON", state="MD", zip="21204"),
    ),
    (
        "500 York Rd Suite 200 Towson MD 21204",
        parts(number="500", street_name="YORK", street_type="RD", unit_type="STE", unit="200",
              city="TOWSON", state="MD", zip="21204"),
    ),
    (
        "219 S Dearborn St 2nd Floor Chicago IL",
        parts(number="219", predir="S", street_name="DEARBORN", street_type="ST",
              unit_type="FL", unit="2", city="CHICAGO", state="IL"),
    ),
    (
        "Apt 1B 626 E Kilbourn Ave Milwaukee, WI 53202",
        parts(number="626", predir="E", street_name="KILBOURN", street_type="AVE",
              unit_type="APT", unit="1B", city="MILWAUKEE", state="WI", zip="53202"),
    ),
    (
        "101 W. Grand Ave. 600, Chicago, IL 60654",
        parts(number="101", predir="W", street_name="GRAND", street_type="AVE", unit="600",
              city="CHICAGO", state="IL", zip="60654"),
    ),
    # house number suffixes
    ("12B Main St", parts(number="12", number_suffix="B", street_name="MAIN",
                          street_type="ST")),
    ("12-B Main St", parts(number="12", number_suffix="B", street_name="MAIN",
                           street_type="ST")),
    ("12 1/2 Main St", parts(number="12", number_suffix="1/2", street_name="MAIN",
                             street_type="ST")),
    ("12\u00bd Main St", parts(number="12", number_suffix="1/2", street_name="MAIN",
                               street_type="ST")),
    ("12 B St", parts(number="12", street_name="B", street_type="ST")),
    ("#2 Turner Rd", parts(number="2", street_name="TURNER", street_type="RD")),
    ("85-23 168th Place", parts(number="85-23", street_name="168TH", street_type="PL")),
    # numbered streets and highways
    ("200 Fifth Avenue", parts(number="200", street_name="5TH", street_type="AVE")),
    ("200 5th Ave", parts(number="200", street_name="5TH", street_type="AVE")),
    (
        "100 Route 40 Catonsville MD",
        parts(number="100", street_name="ROUTE 40", city="CATONSVILLE", state="MD"),
    ),
    ("1000 US Hwy 1", parts(number="1000", street_name="US HIGHWAY 1")),
    ("45 State Route 45", parts(number="45", street_name="STATE ROUTE 45")),
    ("5 I-95", parts(number="5", street_name="INTERSTATE 95")),
    ("9912 S. Avenue H", parts(number="9912", predir="S", street_name="AVENUE H")),
    # missing parts
    ("123 Broadway", parts(number="123", street_name="BROADWAY")),
    (
        "Main St Towson MD",
        parts(street_name="MAIN", street_type="ST", city="TOWSON", state="MD"),
    ),
    (
        "123 Main St Baltimore 21224",
        parts(number="123", street_name="MAIN", street_type="ST", city="BALTIMORE",
              zip="21224"),
    ),
    (
        "123 Main St MD 21224",
        parts(number="123", street_name="MAIN", street_type="ST", state="MD", zip="21224"),
    ),
    (
        "123 main st baltimore maryland",
        parts(number="123", street_name="MAIN", street_type="ST", city="BALTIMORE",
              state="MD"),
    ),
]  # fmt: skip

FIELDS = ParsedAddress.__dataclass_fields__.keys()


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text for text, _ in CASES])
def test_parses_messy_addresses(text: str, expected: dict[str, str]) -> None:
    assert parse_address(text) == ParsedAddress(**{name: expected.get(name) for name in FIELDS})


def test_has_at_least_forty_hand_written_cases() -> None:
    assert len(CASES) >= 40


def test_street_is_assembled_like_the_county_column() -> None:
    parsed = parse_address("12 n main st nw, towson md")
    assert parsed.street == "N MAIN ST NW"
    assert parse_address("21715 A Middletown Rd").street == "MIDDLETOWN RD"
    assert parse_address("100 Route 40").street == "ROUTE 40"


def test_spelled_and_abbreviated_forms_give_the_same_result() -> None:
    spelled = parse_address("21 North Saint Marks Terrace Southwest, Towson, Maryland 21204")
    abbreviated = parse_address("21 n st marks ter sw towson md 21204")
    assert spelled == abbreviated
    assert spelled.street == "N SAINT MARKS TER SW"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   \t\n ", "empty"),
        ("1" * (MAX_LENGTH - 10) + " Main Street", f"longer than {MAX_LENGTH}"),
        ("123 Main\x00 St", "control"),
        ("\x01\x02 Main St", "control"),
        ("12345", "no letters"),
        ("21208-1234", "no letters"),
        ("### 12 ,, 4", "no letters"),
        ("hello world how are you", "no street address"),
        ("Baltimore, MD 21224", "no street address"),
        ("P.O. Box 123, Towson MD 21204", "PO box"),
        ("PO Box 5", "PO box"),
    ],
)
def test_refuses_text_that_is_not_a_street_address(raw: str, reason: str) -> None:
    with pytest.raises(AddressParseError, match=reason):
        parse_address(raw)


@pytest.mark.parametrize("raw", [None, 123, b"123 Main St", ["123 Main St"]])
def test_refuses_input_that_is_not_text(raw: Any) -> None:
    with pytest.raises(AddressParseError, match="must be text"):
        parse_address(raw)


def test_the_error_is_a_value_error_and_a_domain_invalid_input() -> None:
    with pytest.raises(ValueError) as caught:
        parse_address("")
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.reason == "the address is empty"
    assert caught.value.field == "address"


def test_accepts_two_hundred_characters() -> None:
    text = "12 Main St " + "x" * (MAX_LENGTH - 11)
    assert len(text) == MAX_LENGTH
    assert parse_address(text).number == "12"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  123 n. Main st.,  Apt #4B ", "123 N MAIN ST APT # 4B"),
        ("21208-1234", "21208-1234"),
        ("12 1/2 Main", "12 1/2 MAIN"),
        ("12\u00bd Main", "12 1/2 MAIN"),
        ("O'Donnell St", "ODONNELL ST"),
        ("Friedrich-Richter-Strasse", "FRIEDRICH RICHTER STRASSE"),
        ("I-95 and 12-B", "I-95 AND 12-B"),
        ("100 N.E. Peñasco\tRd\n", "100 NE PENASCO RD"),
        ('(Main) & "Oak"', "MAIN OAK"),
        ("", ""),
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected
