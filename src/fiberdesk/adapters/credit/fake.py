"""The fake credit bureau: deterministic scores from a keyed hash of name and birth date.

The same applicant always gets the same score, spread over 300 to 850 like real scores
(a normal curve around 705, so most fall between 600 and 800). Magic SSN last-four values
give fixed answers for tests and demos:

    0000  no file at the bureau (score None)
    1111  820  (approved at the default 650 / 550 policy)
    5555  590  (approved with a deposit)
    9999  480  (declined)
    0503  BureauError: the bureau is unavailable (retry later)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from statistics import NormalDist

from fiberdesk.adapters.credit.base import BureauError, CreditApplicant, CreditReport
from fiberdesk.db.base import utcnow

MIN_SCORE, MAX_SCORE = 300, 850
#: the score curve: a mean of 705 and a spread of 75 puts about 80 % within 600 to 800
SCORE_CURVE = NormalDist(mu=705, sigma=75)
#: fixed answers by the applicant's SSN last four (None: no file)
MAGIC_SSN_LAST4: dict[str, int | None] = {"0000": None, "1111": 820, "5555": 590, "9999": 480}
UNAVAILABLE_SSN_LAST4 = "0503"
ADULT_AGE = 18


class FakeBureau:
    """A credit bureau that answers at once and always the same way for the same person.

    ``clock`` (an aware UTC datetime) sets the check date for the age test; ``key`` keys
    the hash, so another key gives everyone another (still deterministic) score.
    """

    name = "fakebureau"

    def __init__(
        self, *, clock: Callable[[], datetime] | None = None, key: str = "fiberdesk-fake-bureau"
    ) -> None:
        self._clock = clock or utcnow
        self._key = key.encode()

    def check(self, applicant: CreditApplicant) -> CreditReport:
        name = normalise_name(applicant.full_name)
        if not name:
            raise ValueError("the applicant's full name is required")
        last4 = applicant.ssn_last4
        if last4 is not None and not re.fullmatch(r"\d{4}", last4):
            raise ValueError("ssn_last4 must be four digits")
        today = self._clock().date()
        if age_on(applicant.date_of_birth, today) < ADULT_AGE:
            raise ValueError(f"the applicant is under {ADULT_AGE}: no credit check may be run")
        if last4 == UNAVAILABLE_SSN_LAST4:
            raise BureauError("the bureau is unavailable; try again later")
        identity = f"{name}|{applicant.date_of_birth.isoformat()}"
        digest = self._digest(identity)
        score = MAGIC_SSN_LAST4[last4] if last4 in MAGIC_SSN_LAST4 else _score(digest)
        reference = self._digest(f"{identity}|{last4 or ''}|{today.isoformat()}")
        return CreditReport(reference=f"FB-{reference[:10].upper()}", score=score)

    def _digest(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()


def normalise_name(full_name: str) -> str:
    """Case, accents, punctuation and spacing removed: "  José  O'Brien " -> "jose obrien"."""
    plain = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    letters = re.sub(r"[^a-z0-9 ]", "", plain.casefold().replace("-", " "))
    return " ".join(letters.split())


def age_on(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day`` (a 29 February birthday counts on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _score(digest: str) -> int:
    # 64 bits of the digest as a probability strictly inside (0, 1)
    p = (int(digest[:16], 16) + 0.5) / 2**64
    return max(MIN_SCORE, min(MAX_SCORE, round(SCORE_CURVE.inv_cdf(p))))
