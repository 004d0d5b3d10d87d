"""Words with a fixed meaning in US addresses, written as upper-case lookup tables.

Street suffixes follow USPS Publication 28, Appendix C1: each line of ``_SUFFIX_TABLE``
starts with the Postal Service standard abbreviation, followed by the primary name and the
common variants that map to it. ``GRTH`` (garth) is not in Pub 28 but is a street type of
the Baltimore County premises data, so it is listed too. ``TRAILER`` is left out on purpose:
``TRLR`` is a unit designator (Pub 28 Appendix C2) far more often than a street type.
"""

from __future__ import annotations

_SUFFIX_TABLE = """
ALY ALLEY ALLEE ALLY
ANX ANNEX ANEX ANNX
ARC ARCADE
AVE AVENUE AV AVEN AVENU AVN AVNUE
BYU BAYOU BAYOO
BCH BEACH
BND BEND
BLF BLUFF BLUF
BLFS BLUFFS
BTM BOTTOM BOT BOTTM
BLVD BOULEVARD BOUL BOULV
BR BRANCH BRNCH
BRG BRIDGE BRDGE
BRK BROOK
BRKS BROOKS
BG BURG
BGS BURGS
BYP BYPASS BYPA BYPAS BYPS
CP CAMP CMP
CYN CANYON CANYN CNYN
CPE CAPE
CSWY CAUSEWAY CAUSWA
CTR CENTER CEN CENT CENTR CENTRE CNTER CNTR
CTRS CENTERS
CIR CIRCLE CIRC CIRCL CRCL CRCLE
CIRS CIRCLES
CLF CLIFF
CLFS CLIFFS
CLB CLUB
CMN COMMON
CMNS COMMONS
COR CORNER
CORS CORNERS
CRSE COURSE
CT COURT CRT
CTS COURTS
CV COVE
CVS COVES
CRK CREEK
CRES CRESCENT CRSENT CRSNT
CRST CREST
XING CROSSING CRSSNG
XRD CROSSROAD
XRDS CROSSROADS
CURV CURVE
DL DALE
DM DAM
DV DIVIDE DIV DVD
DR DRIVE DRIV DRV
DRS DRIVES
EST ESTATE
ESTS ESTATES
EXPY EXPRESSWAY EXP EXPR EXPRESS EXPW
EXT EXTENSION EXTN EXTNSN
EXTS EXTENSIONS
FALL FALL
FLS FALLS
FRY FERRY FRRY
FLD FIELD
FLDS FIELDS
FLT FLAT
FLTS FLATS
FRD FORD
FRDS FORDS
FRST FOREST FORESTS
FRG FORGE FORG
FRGS FORGES
FRK FORK
FRKS FORKS
FT FORT FRT
FWY FREEWAY FREEWY FRWAY FRWY
GRTH GARTH
GDN GARDEN GARDN GRDEN GRDN
GDNS GARDENS GRDNS
GTWY GATEWAY GATEWY GATWAY GTWAY
GLN GLEN
GLNS GLENS
GRN GREEN
GRNS GREENS
GRV GROVE GROV
GRVS GROVES
HBR HARBOR HARB HARBR HRBOR
HBRS HARBORS
HVN HAVEN
HTS HEIGHTS HT
HWY HIGHWAY HIGHWY HIWAY HIWY HWAY
HL HILL
HLS HILLS
HOLW HOLLOW HLLW HOLLOWS HOLWS
INLT INLET
IS ISLAND ISLND
ISS ISLANDS ISLNDS
ISLE ISLE ISLES
JCT JUNCTION JCTION JCTN JUNCTN JUNCTON
JCTS JUNCTIONS JCTNS
KY KEY
KYS KEYS
KNL KNOLL KNOL
KNLS KNOLLS
LK LAKE
LKS LAKES
LAND LAND
LNDG LANDING LNDNG
LN LANE
LGT LIGHT
LGTS LIGHTS
LF LOAF
LCK LOCK
LCKS LOCKS
LDG LODGE LDGE LODG
LOOP LOOP LOOPS
MALL MALL
MNR MANOR
MNRS MANORS
MDW MEADOW
MDWS MEADOWS MEDOWS
MEWS MEWS
ML MILL
MLS MILLS
MSN MISSION MISSN MSSN
MTWY MOTORWAY
MT MOUNT MNT
MTN MOUNTAIN MNTAIN MNTN MOUNTIN MTIN
MTNS MOUNTAINS MNTNS
NCK NECK
ORCH ORCHARD ORCHRD
OVAL OVAL OVL
OPAS OVERPASS
PARK PARK PRK PARKS
PKWY PARKWAY PARKWY PKWAY PKY PARKWAYS PKWYS
PASS PASS
PSGE PASSAGE
PATH PATH PATHS
PIKE PIKE PIKES
PNE PINE
PNES PINES
PL PLACE
PLN PLAIN
PLNS PLAINS
PLZ PLAZA PLZA
PT POINT
PTS POINTS
PRT PORT
PRTS PORTS
PR PRAIRIE PRR
RADL RADIAL RAD RADIEL
RAMP RAMP
RNCH RANCH RANCHES RNCHS
RPD RAPID
RPDS RAPIDS
RST REST
RDG RIDGE RDGE
RDGS RIDGES
RIV RIVER RVR RIVR
RD ROAD
RDS ROADS
RTE ROUTE
ROW ROW
RUE RUE
RUN RUN
SHL SHOAL
SHLS SHOALS
SHR SHORE SHOAR
SHRS SHORES SHOARS
SKWY SKYWAY
SPG SPRING SPNG SPRNG
SPGS SPRINGS SPNGS SPRNGS
SPUR SPUR SPURS
SQ SQUARE SQR SQRE SQU
SQS SQUARES SQRS
STA STATION STATN STN
STRA STRAVENUE STRAV STRAVEN STRAVN STRVN STRVNUE
STRM STREAM STREME
ST STREET STRT STR
STS STREETS
SMT SUMMIT SUMIT SUMITT
TER TERRACE TERR
TRWY THROUGHWAY
TRCE TRACE TRACES
TRAK TRACK TRACKS TRK TRKS
TRFY TRAFFICWAY
TRL TRAIL TRAILS TRLS
TUNL TUNNEL TUNEL TUNLS TUNNELS TUNNL
TPKE TURNPIKE TRNPK TURNPK
UPAS UNDERPASS
UN UNION
UNS UNIONS
VLY VALLEY VALLY VLLY
VLYS VALLEYS
VIA VIADUCT VDCT VIADCT
VW VIEW
VWS VIEWS
VLG VILLAGE VILL VILLAG VILLG VILLIAGE
VLGS VILLAGES
VL VILLE
VIS VISTA VIST VST VSTA
WALK WALK WALKS
WALL WALL
WAY WAY WY
WAYS WAYS
WL WELL
WLS WELLS
"""


def _build_suffixes(table: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for line in table.split("\n"):
        words = line.split()
        if not words:
            continue
        standard = words[0]
        for word in words:
            if mapping.setdefault(word, standard) != standard:
                raise ValueError(f"street suffix {word} maps to two standards")
    return mapping


STREET_SUFFIXES: dict[str, str] = _build_suffixes(_SUFFIX_TABLE)
"""Any written form of a street suffix -> its USPS standard abbreviation."""

STRONG_SUFFIX_WORDS: frozenset[str] = frozenset({
    "ST", "STREET", "STRT", "STR", "AVE", "AVENUE", "AV", "AVN", "RD", "ROAD", "DR", "DRIVE",
    "DRV", "LN", "LANE", "BLVD", "BOULEVARD", "CT", "CRT", "CIR", "CIRCLE", "CIRC", "TER",
    "TERRACE", "TERR", "PL", "PLACE", "HWY", "HIGHWAY", "PKWY", "PARKWAY", "PKY", "WAY", "TRL",
    "GRTH", "GARTH", "PIKE", "EXPY", "FWY", "TPKE", "TURNPIKE", "ALY", "ALLEY",
})  # fmt: skip
"""Suffix words that are almost never part of a street or place name.

The other suffixes (PARK, POINT, MILLS, GLEN, VALLEY, COURT spelled out, ...) often are:
"Old Court Rd", "Owings Mills", "Hunt Valley". The parser trusts a strong word more when it
decides which suffix word ends the street.
"""

DIRECTIONALS: dict[str, str] = {
    "N": "N", "NORTH": "N", "S": "S", "SOUTH": "S", "E": "E", "EAST": "E", "W": "W",
    "WEST": "W", "NE": "NE", "NORTHEAST": "NE", "NW": "NW", "NORTHWEST": "NW",
    "SE": "SE", "SOUTHEAST": "SE", "SW": "SW", "SOUTHWEST": "SW",
}  # fmt: skip

UNIT_DESIGNATORS: dict[str, str] = {
    "#": "UNIT", "UNIT": "UNIT", "APT": "APT", "APARTMENT": "APT", "STE": "STE",
    "SUITE": "STE", "BLDG": "BLDG", "BUILDING": "BLDG", "FL": "FL", "FLR": "FL",
    "FLOOR": "FL", "RM": "RM", "ROOM": "RM", "LOT": "LOT", "SPC": "SPC", "SPACE": "SPC",
    "TRLR": "TRLR", "TRAILER": "TRLR", "DEPT": "DEPT", "DEPARTMENT": "DEPT", "OFC": "OFC",
    "OFFICE": "OFC", "PH": "PH", "PENTHOUSE": "PH", "NO": "UNIT", "NUM": "UNIT",
    "NUMBER": "UNIT",
}  # fmt: skip
"""Written unit designators (Pub 28 Appendix C2, those that take a number) -> standard.

"No. 12" and "#12" have no designator of their own and become ``UNIT``.
"""

STATES: dict[str, str] = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
    "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
    "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI",
    "MINNESOTA": "MN", "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT",
    "NEBRASKA": "NE", "NEVADA": "NV", "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ",
    "NEW MEXICO": "NM", "NEW YORK": "NY", "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND",
    "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR", "PENNSYLVANIA": "PA",
    "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD", "TENNESSEE": "TN",
    "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA", "WASHINGTON": "WA",
    "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY", "PUERTO RICO": "PR",
    "GUAM": "GU", "VIRGIN ISLANDS": "VI", "AMERICAN SAMOA": "AS",
    "NORTHERN MARIANA ISLANDS": "MP",
}  # fmt: skip
"""Full state and territory names -> USPS two-letter abbreviation."""

STATE_CODES: frozenset[str] = frozenset(STATES.values())

CITY_LIKE_STATES: frozenset[str] = frozenset({"WASHINGTON", "NEW YORK"})
"""Full state names that are as often a city name."""

AMBIGUOUS_STATE_CODES: frozenset[str] = frozenset(
    code for code in STATE_CODES if code in STREET_SUFFIXES or code in DIRECTIONALS
) | frozenset(code for code in STATE_CODES if code in UNIT_DESIGNATORS)
"""State codes that are also a street suffix, a directional or a unit designator: CT, NE, ..."""

AMBIGUOUS_STATE_ZIPS: dict[str, tuple[tuple[str, str], ...]] = {
    "CT": (("060", "069"),), "FL": (("320", "349"),), "KY": (("400", "427"),),
    "MT": (("590", "599"),), "NE": (("680", "693"),), "PR": (("006", "009"),),
    "WY": (("820", "831"),),
}  # fmt: skip
"""First-three-digit ZIP ranges of the ambiguous state codes (USPS ZIP prefix allocation).

"123 Main St NE 20002" is a northeast street in DC; "123 Main St NE 68025" is in Nebraska.
"""

COUNTRY_WORDS: tuple[tuple[str, ...], ...] = (
    ("UNITED", "STATES", "OF", "AMERICA"),
    ("UNITED", "STATES"),
    ("USA",),
)

ORDINAL_WORDS: dict[str, str] = {
    "FIRST": "1ST", "SECOND": "2ND", "THIRD": "3RD", "FOURTH": "4TH", "FIFTH": "5TH",
    "SIXTH": "6TH", "SEVENTH": "7TH", "EIGHTH": "8TH", "NINTH": "9TH", "TENTH": "10TH",
    "ELEVENTH": "11TH", "TWELFTH": "12TH", "THIRTEENTH": "13TH", "FOURTEENTH": "14TH",
    "FIFTEENTH": "15TH", "SIXTEENTH": "16TH", "SEVENTEENTH": "17TH", "EIGHTEENTH": "18TH",
    "NINETEENTH": "19TH", "TWENTIETH": "20TH",
}  # fmt: skip

NAME_ABBREVIATIONS: dict[str, str] = {"MT": "MOUNT", "FT": "FORT", "SAINT": "SAINT"}
"""Abbreviations spelled out inside street and city names, as the county data spells them.

``ST`` becomes ``SAINT`` as well, but only where another word follows it.
"""

HIGHWAY_PREFIXES: dict[str, str] = {
    "US": "US", "STATE": "STATE", "ST": "STATE", "COUNTY": "COUNTY", "SR": "STATE ROUTE",
    "CR": "COUNTY ROAD", "INTERSTATE": "INTERSTATE", "I": "INTERSTATE", "FM": "FM",
}  # fmt: skip
"""Words that may start a numbered highway name ("US Hwy 1", "State Route 45")."""

HIGHWAY_WORDS: dict[str, str] = {
    "HWY": "HIGHWAY", "HIGHWAY": "HIGHWAY", "HIWAY": "HIGHWAY", "HIGHWY": "HIGHWAY",
    "HIWY": "HIGHWAY", "HWAY": "HIGHWAY", "ROUTE": "ROUTE", "RTE": "ROUTE", "RT": "ROUTE",
    "ROAD": "ROAD", "RD": "ROAD",
}  # fmt: skip
"""Words of a numbered highway name before its number ("Route 40", "County Road 12")."""

PRETYPE_WORDS: dict[str, str] = {"AVENUE": "AVENUE", "AVE": "AVENUE", "AV": "AVENUE"}
"""Suffix words that come first in lettered street names ("Avenue H")."""
