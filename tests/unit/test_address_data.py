"""The address parser against real labelled address strings (see tests/data/parsed_strings).

Two kinds of check:

* robustness: every string of every file is parsed; the parser may only return a
  ``ParsedAddress`` or raise ``AddressParseError``, and must answer quickly;
* agreement: on the strings that are plain street addresses, the parsed parts are compared
  with the labels after both sides are normalised the same way. The measured rates are
  printed (run with ``-s``) and asserted against floors a few points below them, so a change
  that makes the parser worse fails here.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fiberdesk.domain.address import AddressParseError, ParsedAddress, normalise_text, parse_address
from fiberdesk.domain.address.vocabulary import (
    DIRECTIONALS,
    NAME_ABBREVIATIONS,
    ORDINAL_WORDS,
    STATES,
    STREET_SUFFIXES,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "parsed_strings"
USADDRESS_FILES = (
    "training_labeled.xml.gz",
    "test_labeled.xml",
    "us50_train_tagged.xml",
    "us50_test_tagged.xml.gz",
    "us50_messiest_manual_label.xml",
)
# Tags that mark a string as something other than one plain street address.
NOT_PLAIN = frozenset(
    {
        "USPSBoxID",
        "USPSBoxType",
        "USPSBoxGroupID",
        "USPSBoxGroupType",
        "IntersectionSeparator",
        "LandmarkName",
        "CornerOf",
        "BuildingName",
        "Recipient",
        "NotAddress",
        "StreetNamePreType",
        "SubaddressType",
        "SubaddressIdentifier",
    }
)
STREET_TAGS = frozenset(
    {"StreetNamePreDirectional", "StreetName", "StreetNamePostType", "StreetNamePostDirectional"}
)
SLOWEST_ALLOWED_SECONDS = 0.25


def read_text(path: Path) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return handle.read()
    return path.read_text(encoding="utf-8")


def timed_parse(text: str) -> tuple[ParsedAddress | None, float]:
    """Parse, returning None for AddressParseError; any other exception propagates."""
    started = time.perf_counter()
    try:
        parsed: ParsedAddress | None = parse_address(text)
    except AddressParseError:
        parsed = None
    return parsed, time.perf_counter() - started


# --- normalising the labels the way the parser normalises its output ---------------------


def canonical_name(text: str) -> str:
    words = normalise_text(text).split()
    for index, word in enumerate(words):
        words[index] = ORDINAL_WORDS.get(word, NAME_ABBREVIATIONS.get(word, word))
        if word == "ST" and index + 1 < len(words):
            words[index] = "SAINT"
    if len(words) == 1 and words[0].isdigit():
        value = int(words[0])
        ending = {1: "ST", 2: "ND", 3: "RD"}.get(value % 10, "TH")
        words[0] = f"{value}{'TH' if value % 100 in (11, 12, 13) else ending}"
    return " ".join(words)


def canonical_street(text: str) -> str:
    """A labelled full street ("West 26th Street") in the parser's form ("W 26TH ST")."""
    words = normalise_text(text).split()
    predir = sufdir = suffix = ""
    if len(words) > 2 and words[-1] in DIRECTIONALS:
        sufdir = DIRECTIONALS[words.pop()]
    if len(words) > 1 and words[-1] in STREET_SUFFIXES:
        suffix = STREET_SUFFIXES[words.pop()]
    if len(words) > 1 and words[0] in DIRECTIONALS:
        predir = DIRECTIONALS[words.pop(0)]
    return " ".join(
        part for part in (predir, canonical_name(" ".join(words)), suffix, sufdir) if part
    )


def canonical_city(text: str) -> str:
    words = normalise_text(text).split()
    if len(words) > 1 and words[0] in ("ST", "MT", "FT"):
        words[0] = NAME_ABBREVIATIONS.get(words[0], "SAINT")
    return " ".join(words)


def canonical_unit(text: str) -> str:
    """A labelled unit in the parser's form: "#4" -> "4", "15TH" (floor) -> "15"."""
    unit = text.replace("#", "").strip()
    unit = ORDINAL_WORDS.get(unit, unit)
    if match := re.fullmatch(r"(\d+)(?:ST|ND|RD|TH)", unit):
        return match[1]
    return re.sub(r"^(?:UNIT|APT|STE)(?=\d)", "", unit)


def leading_number(text: str) -> str:
    match = re.match(r"\d+(?:-\d+)?", normalise_text(text))
    return match[0] if match else ""


# --- agreement bookkeeping ----------------------------------------------------------------


@dataclass
class Agreement:
    """Counts of agreeing parts, with a few disagreements kept for the printout."""

    title: str
    cases: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    misses: dict[str, list[str]] = field(default_factory=dict)

    def check(self, part: str, text: str, expected: str, actual: str | None) -> None:
        self.totals[part] = self.totals.get(part, 0) + 1
        if expected == (actual or ""):
            self.hits[part] = self.hits.get(part, 0) + 1
        else:
            self.misses.setdefault(part, []).append(f"{text!r}: {expected!r} != {actual!r}")

    def rate(self, part: str) -> float:
        return self.hits.get(part, 0) / self.totals[part]

    def report(self) -> str:
        lines = [f"{self.title}: {self.cases} plain street addresses"]
        for part in self.totals:
            lines.append(
                f"  {part:<12} {self.rate(part):7.1%}"
                f"  ({self.hits.get(part, 0)}/{self.totals[part]})"
            )
        for part, misses in self.misses.items():
            lines.extend(f"  miss {part}: {miss}" for miss in misses[:3])
        return "\n".join(lines)


# --- usaddress parserator XML -------------------------------------------------------------


@dataclass(frozen=True)
class Labelled:
    text: str
    parts: dict[str, list[str]]
    street: str  # the street's labelled words in the order they were typed


def usaddress_strings() -> Iterator[Labelled]:
    for name in USADDRESS_FILES:
        root = ET.fromstring(read_text(DATA / "usaddress" / name))
        for element in root.iter("AddressString"):
            parts: dict[str, list[str]] = {}
            street: list[str] = []
            for child in element:
                parts.setdefault(child.tag, []).append(child.text or "")
                if child.tag in STREET_TAGS:
                    street.append(child.text or "")
            yield Labelled("".join(element.itertext()).strip(), parts, " ".join(street))


def is_plain_street_address(item: Labelled) -> bool:
    parts = item.parts
    if NOT_PLAIN & parts.keys() or len(parts.get("StreetNamePostType", [])) != 1:
        return False
    if "AddressNumber" not in parts or "StreetName" not in parts:
        return False
    return normalise_text(parts["StreetNamePostType"][0]) in STREET_SUFFIXES


def joined(parts: dict[str, list[str]], tag: str) -> str:
    return normalise_text(" ".join(parts.get(tag, [])))


def measure_usaddress() -> Agreement:
    agreement = Agreement("usaddress labelled XML")
    for item in usaddress_strings():
        if not is_plain_street_address(item):
            continue
        agreement.cases += 1
        parsed, _ = timed_parse(item.text)
        parts, text = item.parts, item.text
        agreement.check("parsed", text, "yes", "yes" if parsed else "no")
        agreement.check(
            "number", text, leading_number(joined(parts, "AddressNumber")), parsed and parsed.number
        )
        agreement.check(
            "street_name",
            text,
            canonical_name(joined(parts, "StreetName")),
            parsed and parsed.street_name,
        )
        agreement.check(
            "street_type",
            text,
            STREET_SUFFIXES[joined(parts, "StreetNamePostType")],
            parsed and parsed.street_type,
        )
        agreement.check("street", text, canonical_street(item.street), parsed and parsed.street)
        predir = joined(parts, "StreetNamePreDirectional")
        agreement.check("predir", text, DIRECTIONALS.get(predir, predir), parsed and parsed.predir)
        if "OccupancyIdentifier" in parts:
            unit = canonical_unit(joined(parts, "OccupancyIdentifier"))
            agreement.check("unit", text, unit, parsed and parsed.unit)
        if "StateName" in parts:
            state = joined(parts, "StateName")
            agreement.check("state", text, STATES.get(state, state), parsed and parsed.state)
        if "PlaceName" in parts:
            agreement.check(
                "city", text, canonical_city(joined(parts, "PlaceName")), parsed and parsed.city
            )
        if "ZipCode" in parts:
            zip_code = re.sub(r"\D", "", joined(parts, "ZipCode"))[:5]
            agreement.check("zip", text, zip_code, parsed and parsed.zip)
    return agreement


# --- pelias acceptance tests --------------------------------------------------------------


@dataclass(frozen=True)
class PeliasCase:
    text: str
    housenumber: str
    street: str
    postalcode: str | None


def pelias_cases() -> Iterator[tuple[str, dict[str, object] | None]]:
    """Every (input text, first expected properties) pair of every file."""
    for path in sorted((DATA / "pelias_acceptance").glob("*.json")):
        for test in json.loads(path.read_text(encoding="utf-8")).get("tests", []):
            text = test.get("in", {}).get("text")
            expected = test.get("expected") or {}
            properties = expected.get("properties") if isinstance(expected, dict) else None
            first = properties[0] if properties and isinstance(properties[0], dict) else None
            if isinstance(text, str):
                yield text, first


def pelias_street_cases() -> Iterator[PeliasCase]:
    """Cases whose text is an ASCII street address starting with its house number."""
    for text, expected in pelias_cases():
        if not expected or not text.isascii():
            continue
        housenumber, street = expected.get("housenumber"), expected.get("street")
        if not isinstance(housenumber, str) or not isinstance(street, str):
            continue
        if not re.match(r"\d", text) or normalise_text(street).split()[-1] not in STREET_SUFFIXES:
            continue
        postalcode = expected.get("postalcode")
        in_text = isinstance(postalcode, str) and postalcode in text
        yield PeliasCase(text, housenumber, street, postalcode if in_text else None)


def measure_pelias() -> Agreement:
    agreement = Agreement("pelias acceptance tests")
    for case in pelias_street_cases():
        agreement.cases += 1
        parsed, _ = timed_parse(case.text)
        agreement.check("parsed", case.text, "yes", "yes" if parsed else "no")
        agreement.check(
            "number", case.text, leading_number(case.housenumber), parsed and parsed.number
        )
        agreement.check(
            "street", case.text, canonical_street(case.street), parsed and parsed.street
        )
        if case.postalcode:
            agreement.check("zip", case.text, case.postalcode, parsed and parsed.zip)
    return agreement


# --- the tests ----------------------------------------------------------------------------


def all_raw_strings() -> Iterator[str]:
    yield from (item.text for item in usaddress_strings())
    yield from (text for text, _ in pelias_cases())
    raw = read_text(DATA / "usaddress" / "unparseable_raw.csv.gz")
    yield from (row[0] for row in csv.reader(io.StringIO(raw)) if row)


def test_every_string_parses_or_is_refused_quickly() -> None:
    strings = list(all_raw_strings())
    assert len(strings) > 3500  # all five XML files, the pelias cases and the raw CSV
    refused = 0
    slowest = 0.0
    for text in strings:
        parsed, seconds = timed_parse(text)
        refused += parsed is None
        slowest = max(slowest, seconds)
    print(f"\n{len(strings)} strings, {refused} refused, slowest parse {slowest * 1000:.1f} ms")
    assert slowest < SLOWEST_ALLOWED_SECONDS
    # Most strings are addresses: 19% were refused when this was written (PO boxes, "acct #",
    # postcodes alone, foreign addresses). A parser that refused much more has broken.
    assert refused < len(strings) * 0.25


AgreementFloors = dict[str, float]


# Measured when these floors were set (parser as of this commit), in the comment beside each.
@pytest.mark.parametrize(
    ("measure", "floors", "minimum_cases"),
    [
        pytest.param(
            measure_usaddress,
            {
                "parsed": 0.97,  # 100.0% of 905 plain street addresses
                "number": 0.97,  # 99.8%
                "street_name": 0.88,  # 91.7%: most misses are labels that put "North" in the name
                "street_type": 0.96,  # 99.2%
                "street": 0.89,  # 92.6%: predir + name + type + sufdir, whatever the labels split
                "predir": 0.91,  # 94.5%
                "unit": 0.83,  # 86.7% of 263 with a unit
                "city": 0.91,  # 94.7% of 663 with a city
                "zip": 0.95,  # 98.4% of 630 with a ZIP; the misses are 4-digit ZIPs
                "state": 0.94,  # 97.6% of 590 with a state
            },
            900,
            id="usaddress",
        ),
        pytest.param(
            measure_pelias,
            {
                "parsed": 0.97,  # 100.0% of 53
                "number": 0.97,  # 100.0%
                "street": 0.85,  # 90.6%: misses are autocomplete prefixes such as "90 Vermilyea A"
                "zip": 0.83,  # 100.0% of 6
            },
            50,
            id="pelias",
        ),
    ],
)
def test_agreement_with_labels(
    measure: Callable[[], Agreement], floors: AgreementFloors, minimum_cases: int
) -> None:
    agreement = measure()
    print("\n" + agreement.report())
    assert agreement.cases >= minimum_cases
    for part, floor in floors.items():
        assert agreement.rate(part) >= floor, f"{part}: {agreement.rate(part):.1%} < {floor:.0%}"
