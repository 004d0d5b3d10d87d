"""Invented people: names from short lists of common given names and surnames, e-mail
addresses at the reserved example domains, and phone numbers in the fictional 555-01xx range
of the Baltimore area codes (410 and 443)."""

from __future__ import annotations

import random
import re

# a word list is easier to read and edit as one string than as 230 literals
GIVEN_NAMES = (  # noqa: SIM905
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
    "Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah "
    "Timothy Stephanie Ronald Dorothy Jason Rebecca Edward Sharon Jeffrey Laura Ryan Cynthia "
    "Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Brenda Stephen Emma Larry "
    "Anna Justin Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel Christine "
    "Gregory Debra Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia "
    "Dennis Heather Jerry Helen Tyler Catherine Aaron Diane Jose Julie Adam Victoria Nathan "
    "Joyce Henry Lauren Zachary Kelly Douglas Christina Peter Ruth Kyle Joan Noah Virginia "
    "Ethan Judith Jeremy Evelyn Christian Hannah Walter Andrea Keith Megan Roger Cheryl Terry "
    "Jacqueline Austin Madison Sean Teresa Gerald Abigail Carl Sophia Harold Martha Dylan Sara "
    "Arthur Gloria Lawrence Janice Jordan Kathryn Jesse Ann Bryan Isabella Billy Judy Bruce "
    "Charlotte Gabriel Julia Joe Grace Logan Amber Alan Alice Juan Jean Albert Denise Willie "
    "Frances Elijah Danielle Wayne Marilyn Randy Natalie Vincent Diana Mason Brittany Roy "
    "Beverly Ralph Isabel Bobby Theresa Russell Kayla Bradley Alexis Philip Lori Eugene Marie "
    "Darnell Keisha Andre Tamika Malik Aaliyah Marcus Imani Terrence Latoya Jamal Jasmine Wei "
    "Mei Raj Priya Minh Linh Carlos Sofia Luis Camila Diego Valeria Hyun Ji-woo Kwame Ama "
    "Tariq Leila"
).split()

# a word list is easier to read and edit as one string than as 260 literals
SURNAMES = (  # noqa: SIM905
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White "
    "Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
    "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts "
    "Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales "
    "Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos "
    "Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes "
    "Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry "
    "Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons "
    "Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West "
    "Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro "
    "Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry "
    "Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez "
    "Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd "
    "Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols "
    "Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce "
    "Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong "
    "Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston "
    "Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval Kowalski Nowak "
    "Schultz Weber Becker Fischer Novak Horvat Okafor Mensah Osei Nakamura Tanaka Sato Park "
    "Choi Wong Singh Shah Khan Ali Hussain Cohen Levy Russo Romano Costa"
).split()

EMAIL_DOMAINS = ("example.com", "example.net")
AREA_CODES = ("410", "443")


def person(rng: random.Random) -> tuple[str, str]:
    """A (given name, surname) pair."""
    return rng.choice(GIVEN_NAMES), rng.choice(SURNAMES)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


class Contacts:
    """E-mail addresses that are unique within one build, and fictional phone numbers."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._emails: set[str] = set()

    def email(self, given: str, surname: str) -> str:
        first, last = slug(given), slug(surname)
        patterns = (f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}", f"{last}.{first}")
        local = self._rng.choice(patterns)
        domain = self._rng.choice(EMAIL_DOMAINS)
        candidate = f"{local}@{domain}"
        n = 1
        while candidate in self._emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self._emails.add(candidate)
        return candidate

    def phone(self) -> str:
        """E.164 in 410/443 with 555-0100..0199, the range kept for fiction."""
        return f"+1{self._rng.choice(AREA_CODES)}5550{self._rng.randrange(100, 200)}"
