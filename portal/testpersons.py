"""Fictional test persons for the demo's local OpenID provider (``portal/testop/op.mjs``).

The demo logs in through a real OpenID provider, started beside the portal, whose users
file maps each person's ``sub`` to the claims Suomi.fi would send. The persons here are
made for *today*, so their ages stay in (or, on purpose, out of) the served range
whatever day the demo runs; their identity codes use individual numbers 900-999, which
no real person has (``portal.identity.make_test_code``). No Django here: the command
that starts the provider writes the file before Django is set up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from portal.identity import make_test_code


@dataclass(frozen=True)
class TestPerson:
    """One person the provider knows: type ``sub`` in its login field, any password."""

    __test__ = False  # not a pytest test class, whatever its name

    sub: str
    given_name: str
    family_name: str
    code: str
    loa: str
    age: int
    note: str


def years_ago(years: int, today: date, days: int = 0) -> date:
    """The date ``years`` before ``today`` (28 February for a 29th), minus ``days``."""
    try:
        day = today.replace(year=today.year - years)
    except ValueError:
        day = today.replace(year=today.year - years, day=28)
    return day - timedelta(days=days)


# (given name, family name, age, level of assurance, what the person shows)
CAST = (
    ("Aino", "Testinen", 17, "substantial", "may log in"),
    ("Elias", "Koeluoto", 19, "substantial", "may log in"),
    ("Saga", "Provsson", 22, "high", "may log in (Swedish speaker)"),
    ("Onni", "Kokeilu", 27, "substantial", "may log in"),
    ("Veera", "Matala", 20, "low", "refused: weak login (loa low)"),
    ("Kalle", "Vanhanen", 31, "substantial", "refused: over the age range"),
)


def demo_persons(today: date) -> list[TestPerson]:
    """The demo's cast, aged as of ``today`` (each born 40 days after the birthday)."""
    persons = []
    for n, (given, family, age, loa, note) in enumerate(CAST, start=1):
        born = years_ago(age, today, days=40)
        persons.append(
            TestPerson(
                sub=f"00000000-0000-4000-9000-{n:012d}",
                given_name=given,
                family_name=family,
                code=make_test_code(born, 900 + n),
                loa=loa,
                age=age,
                note=note,
            )
        )
    return persons


def users_file(persons: list[TestPerson], path: Path) -> Path:
    """Write the provider's users file (``{sub: {"claims": {...}}}``) to ``path``."""
    users = {
        p.sub: {
            "claims": {
                "given_name": p.given_name,
                "family_name": p.family_name,
                "national_id_num": p.code,
                "loa": p.loa,
                "amr": ["suomi_fi"],
            }
        }
        for p in persons
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(json.dumps(users, indent=2))
    return path
