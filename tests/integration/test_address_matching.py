"""Matching what people type to the real Baltimore County premises (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from fiberdesk.bootstrap import Fiberdesk
from fiberdesk.db.models import Premises
from fiberdesk.domain.errors import InvalidInput, NotFound
from fiberdesk.domain.qualification import MatchStatus
from fiberdesk.services.address_match import (
    MATCH_THRESHOLD,
    MatchResult,
    match_address,
    nearest_premises,
    premises_by_source_id,
)


def _match(fd: Fiberdesk, text: str) -> MatchResult:
    with fd.uow(write=False) as uow:
        return match_address(uow.session, text)


OLD_COURT = "2202 OLD COURT RD, LUTHERVILLE TIMONIUM, MD 21093"

MESSY = [
    # case and spacing
    ("2202 OLD COURT RD LUTHERVILLE TIMONIUM MD 21093", OLD_COURT),
    ("  2202   old    court rd   lutherville timonium   md  21093 ", OLD_COURT),
    # missing and extra commas
    ("2202 Old Court Rd Lutherville Timonium MD 21093", OLD_COURT),
    ("2202 Old Court Rd,, Lutherville Timonium,, MD,, 21093", OLD_COURT),
    # spelled-out type
    ("2202 Old Court Road, Lutherville Timonium, MD 21093", OLD_COURT),
    # one and two typos in the street name
    ("2202 Old Cuort Rd, Lutherville Timonium, MD 21093", OLD_COURT),
    ("2202 Odl Cuort Rd 21093", OLD_COURT),
    # missing city, missing ZIP, ZIP+4
    ("2202 Old Court Rd 21093", OLD_COURT),
    ("2202 Old Court Rd Lutherville Timonium", OLD_COURT),
    ("2202 Old Court Rd, Lutherville Timonium, MD 21093-4321", OLD_COURT),
    # units in every common form: matched to the building, the unit kept
    ("2202 Old Court Rd #4, Lutherville Timonium MD 21093", OLD_COURT),
    ("2202 Old Court Rd Apt 4 21093", OLD_COURT),
    ("2202 Old Court Rd Unit 4 21093", OLD_COURT),
    ("2202 Old Court Rd Ste 4 21093", OLD_COURT),
    # directionals spelled out, before and after the name
    ("2601 North Marine Avenue, Sparrows Point, MD", "2601 N MARINE AVE, SPARROWS POINT, MD 21219"),
    ("2601 n marine ave 21219", "2601 N MARINE AVE, SPARROWS POINT, MD 21219"),
    ("5205 Glen Arm Road East, Glen Arm MD", "5205 GLEN ARM RD E, GLEN ARM, MD 21057"),
    # a community name instead of the postal city
    ("3 Benjamin Way, Oella, MD", "3 BENJAMIN WAY, ELLICOTT CITY, MD 21043"),
]


@pytest.mark.parametrize(("text", "label"), MESSY)
def test_messy_forms_match(county_fd: Fiberdesk, text: str, label: str) -> None:
    result = _match(county_fd, text)
    assert result.status is MatchStatus.MATCHED, (result.message, result.candidates[:2])
    assert result.best is not None and result.best.label == label
    assert result.best.confidence >= MATCH_THRESHOLD


def test_unit_is_kept(county_fd: Fiberdesk) -> None:
    result = _match(county_fd, "2202 Old Court Rd Apt 4B 21093")
    assert result.parsed is not None
    assert (result.parsed.unit_type, result.parsed.unit) == ("APT", "4B")


def test_same_number_and_street_in_two_towns_is_ambiguous(county_fd: Fiberdesk) -> None:
    result = _match(county_fd, "2 Stirrup Ct")
    assert result.status is MatchStatus.AMBIGUOUS and result.best is None
    assert {c.label.split(", ")[1] for c in result.candidates} >= {"COCKEYSVILLE", "PIKESVILLE"}
    assert _match(county_fd, "2 Stirrup Ct 21030").status is MatchStatus.MATCHED


def test_a_house_number_that_does_not_exist_is_not_matched(county_fd: Fiberdesk) -> None:
    result = _match(county_fd, "2203 Old Court Rd, Lutherville Timonium, MD 21093")
    assert result.status is MatchStatus.NOT_FOUND and result.best is None
    assert result.candidates, "nearest addresses are offered"
    assert all(c.confidence < MATCH_THRESHOLD for c in result.candidates)
    assert result.candidates[0].label.startswith(("2202 ", "2204 ", "2200 ", "2212 "))


def test_the_nearest_numbers_are_looked_for_along_the_whole_street(fd: Fiberdesk) -> None:
    # a long street: more premises than the 2,000 the matcher once read (in no particular
    # order, in practice the first entered) before picking the nearest
    with fd.uow() as uow:
        uow.session.add_all(
            Premises(
                source_id=f"LONG{n}",
                number=str(n),
                street_name="LONG",
                street_type="RD",
                street="LONG RD",
                city="TOWSON",
                state="MD",
                zip="21204",
                lat=39.40 + n * 1e-5,
                lon=-76.60,
            )
            for n in range(2, 6002, 2)
        )
        uow.commit()
    result = _match(fd, "6003 Long Rd, Towson MD 21204")
    assert result.status is MatchStatus.NOT_FOUND
    numbers = [c.label.split()[0] for c in result.candidates]
    assert numbers == ["6000", "5998", "5996", "5994", "5992"]
    assert _match(fd, "6003 Long Rd, Towson MD 21204").candidates == result.candidates


def test_unknown_street(county_fd: Fiberdesk) -> None:
    result = _match(county_fd, "12 Zzyzx Quux Rd, Towson MD")
    assert result.status is MatchStatus.NOT_FOUND and result.candidates == []


@pytest.mark.parametrize(
    "text",
    ["", "   ", "x" * 10_000, "\x00\x01\x02binary", "hello how are you doing today"],
)
def test_bad_input_is_refused(county_fd: Fiberdesk, text: str) -> None:
    with pytest.raises(InvalidInput):
        _match(county_fd, text)


def test_by_coordinates_and_source_id(county_fd: Fiberdesk) -> None:
    with county_fd.uow(write=False) as uow:
        by_id = premises_by_source_id(uow.session, "112540")
        assert by_id.label == OLD_COURT
        near = nearest_premises(uow.session, lat=by_id.lat + 0.00001, lon=by_id.lon)
        assert near[0].premises_id == by_id.premises_id
        assert near[0].distance_m is not None and near[0].distance_m < 5
        with pytest.raises(NotFound):
            premises_by_source_id(uow.session, "no-such-id")
        with pytest.raises(NotFound):
            nearest_premises(uow.session, lat=10.0, lon=10.0)
        with pytest.raises(InvalidInput):
            nearest_premises(uow.session, lat=100.0, lon=10.0)


def test_directional_kept_in_the_name_by_the_source(county_fd: Fiberdesk) -> None:
    # the county writes "WEST LIBERTY RD" with no predir; people write "W Liberty Rd"
    result = _match(county_fd, "21100 W Liberty Rd, Parkton MD")
    assert result.status is MatchStatus.MATCHED
    assert result.best is not None and result.best.label.startswith("21100 WEST LIBERTY RD")
