"""Area labels as publishers write them → ``(area_code, area_level)``.

Conventions (see the package docstring for the full list):

- postal code areas: the 5 digits, ``"00100"``;
- the whole country: ``"SSS"`` (Statistics Finland's code);
- municipalities: the 3-digit Statistics Finland code (``"091"``); a file that gives only a
  name gets the code from :data:`MUNICIPALITY_CODES` when it is listed there, otherwise the
  slug of the name (``"Koski Tl"`` → ``"koski_tl"``), which never looks like a code;
- Aluesarjat districts keep the municipality prefix and the published number: ``"091 1"``
  (major district), ``"091 101"`` (basic district), ``"091 10"`` (sub-district). The number
  alone is ambiguous in Helsinki, so the level comes from the name ("...suurpiiri",
  "...suuralue", "...peruspiiri") and ``area_level`` is always part of the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from indicators.labels import slugify

#: Statistics Finland municipality codes for the Helsinki region and the largest cities.
#: Deliberately short: only codes we are sure of. Other names become slugs.
MUNICIPALITY_CODES: Mapping[str, str] = {
    "Helsinki": "091",
    "Espoo": "049",
    "Vantaa": "092",
    "Kauniainen": "235",
    "Kerava": "245",
    "Järvenpää": "186",
    "Kirkkonummi": "257",
    "Sipoo": "753",
    "Tuusula": "858",
    "Nurmijärvi": "543",
    "Vihti": "927",
    "Hyvinkää": "106",
    "Mäntsälä": "505",
    "Pornainen": "611",
    "Porvoo": "638",
    "Siuntio": "755",
    "Lohja": "444",
    "Tampere": "837",
    "Turku": "853",
    "Oulu": "564",
    "Jyväskylä": "179",
    "Lahti": "398",
    "Kuopio": "297",
    "Pori": "609",
    "Kouvola": "286",
    "Joensuu": "167",
    "Vaasa": "905",
    "Lappeenranta": "405",
    "Hämeenlinna": "109",
    "Rovaniemi": "698",
    "Seinäjoki": "743",
    "Mikkeli": "491",
    "Kotka": "285",
    "Salo": "734",
}
_CODES_BY_KEY = {name.casefold(): code for name, code in MUNICIPALITY_CODES.items()}

COUNTRY_CODE = "SSS"
_COUNTRY_NAMES = frozenset({"koko maa", "whole country", "hela landet", "sss", "finland", "suomi"})

_POSTAL = re.compile(r"^(\d{5})(?:\s+\S.*)?$")
_ALUESARJAT = re.compile(r"^(\d{3})(?:\s+(\d{1,3}))?\s+(\S.*)$")
_MUNICIPALITY_CODE = re.compile(r"^(?:KU(\d{3})(?:\s+\S.*)?|(\d{3}))$")
_MAJOR = ("suurpiiri", "suuralue")
_BASIC = ("peruspiiri",)
_GROUPS = frozenset({"kantakaupunki", "esikaupungit"})
_UNALLOCATED = frozenset({"muut", "tuntematon"})

AREA_DIMENSION_NAMES: frozenset[str] = frozenset(
    {
        "alue",
        "area",
        "region",
        "kunta",
        "municipality",
        "postinumeroalue",
        "postal code area",
        "område",
        "kommun",
        "geo",
    }
)


def municipality_code(name: str) -> str:
    """Return the 3-digit code for a municipality name, or the slug of the name.

    >>> municipality_code("Helsinki"), municipality_code("Koski Tl")
    ('091', 'koski_tl')
    """
    return _CODES_BY_KEY.get(name.strip().casefold()) or slugify(name)


def parse_area(label: str) -> tuple[str, str] | None:
    """Return ``(area_code, area_level)`` for a published area label, or None.

    >>> parse_area("00100  Helsinki keskusta - Etu-Töölö (Helsinki)")
    ('00100', 'postal_code')
    >>> parse_area("091 201 Reijolan peruspiiri"), parse_area("091 201 Ruoholahti")
    (('091 201', 'basic_district'), ('091 201', 'sub_district'))
    """
    text = " ".join(label.split())
    if not text:
        return None
    if text.casefold() in _COUNTRY_NAMES or text.startswith(f"{COUNTRY_CODE} "):
        return COUNTRY_CODE, "country"
    if m := _POSTAL.match(text):
        return m.group(1), "postal_code"
    if m := _ALUESARJAT.match(text):
        municipality, number, name = m.groups()
        if number is None:
            return municipality, "municipality"
        return f"{municipality} {number}", _district_level(name)
    if m := _MUNICIPALITY_CODE.match(text):
        return m.group(1) or m.group(2), "municipality"
    if (code := _CODES_BY_KEY.get(text.casefold())) is not None:
        return code, "municipality"
    return None


def _district_level(name: str) -> str:
    lowered = name.casefold()
    if lowered.endswith(_MAJOR):
        return "major_district"
    if lowered.endswith(_BASIC):
        return "basic_district"
    if lowered in _GROUPS:
        return "district_group"
    if lowered in _UNALLOCATED:
        return "unallocated"
    return "sub_district"


def area_name(label: str) -> str:
    """Return the name part of an Aluesarjat/Paavo label (``"091 1 Eteläinen suurpiiri"`` →
    ``"Eteläinen suurpiiri"``)."""
    text = " ".join(label.split())
    if m := _ALUESARJAT.match(text):
        return m.group(3)
    if m := re.match(r"^\d{5}\s+(\S.*)$", text):
        return m.group(1)
    return text


def is_area_dimension(name: str) -> bool:
    """Whether a dimension/column called ``name`` holds areas."""
    return name.strip().casefold() in AREA_DIMENSION_NAMES
