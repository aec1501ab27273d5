"""Indicator slugs and period codes: one spelling for what publishers spell many ways.

Slugs are ASCII snake_case. A few Finnish labels that the employment indicators use are
translated (``Työttömyysaste`` → ``unemployment_rate``) so that PC-Axis, JSON-stat and PxWeb
files agree with each other; any other label is transliterated (``Työttömät`` would be
``tyottomat``). Whole-population labels ("Yhteensä", "Molemmat sukupuolet") add nothing to a
slug and are left out of it, so "Työttömät, Molemmat sukupuolet" is just ``unemployed``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from features.errors import SourceError

#: Labels that name a measure, casefolded. A dimension whose every value is here is the
#: "measure" dimension and leads the slug.
MEASURES: Mapping[str, str] = {
    "työttömät": "unemployed",
    "työttömät työnhakijat": "unemployed_jobseekers",
    "työttömyysaste": "unemployment_rate",
    "työlliset": "employed",
    "työvoima": "labour_force",
    "väestö": "population",
    "keskitulo": "mean_income",
    "mediaanitulo": "median_income",
    "tulot yhteensä": "total_income",
    "15-vuotta täyttäneet yhteensä": "persons_15_plus",
    "unemployed": "unemployed",
    "unemployment rate": "unemployment_rate",
    "employed": "employed",
    "labour force": "labour_force",
}

#: Qualifier labels translated to English.
QUALIFIERS: Mapping[str, str] = {
    "miehet": "men",
    "naiset": "women",
    "males": "men",
    "females": "women",
}

#: Labels meaning "everyone": dropped from slugs.
TOTALS: frozenset[str] = frozenset(
    {
        "yhteensä",
        "molemmat sukupuolet",
        "sukupuolet yhteensä",
        "kaikki",
        "total",
        "totalt",
        "both sexes",
        "all",
    }
)


def slugify(text: str) -> str:
    """Transliterate ``text`` to ASCII snake_case (``"Etu-Töölö"`` → ``"etu_toolo"``).

    >>> slugify("Unemployed (PT)")
    'unemployed_pt'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def _key(label: str) -> str:
    return " ".join(label.split()).casefold()


def is_measure(label: str) -> bool:
    """Whether ``label`` names a measure in :data:`MEASURES`."""
    return _key(label) in MEASURES


def is_total(label: str) -> bool:
    """Whether ``label`` means the whole population (dropped from slugs)."""
    return _key(label) in TOTALS


def label_slug(label: str) -> str:
    """Return the slug part for one category label ("" for a total)."""
    key = _key(label)
    if key in TOTALS:
        return ""
    return MEASURES.get(key) or QUALIFIERS.get(key) or slugify(label)


def compose_slug(labels: Iterable[str]) -> str:
    """Join the slug parts of ``labels``; if they are all totals, keep the totals' own slug."""
    labels = list(labels)
    parts = [p for p in (label_slug(label) for label in labels) if p]
    if not parts:
        parts = [p for p in (slugify(label) for label in labels) if p]
    return "_".join(parts) or "value"


def check_unique_slugs(slugs: Mapping[str, str], source: str, column: str | None = None) -> None:
    """Raise SourceError when two different labels map to the same slug.

    ``slugs`` maps each original label to its slug.
    """
    seen: dict[str, str] = {}
    for label, slug in slugs.items():
        if slug in seen and seen[slug] != label:
            raise SourceError(
                source,
                f"two different labels give the same indicator slug {slug!r}",
                column=column,
                examples=[seen[slug], label],
                hint="Rename one of the labels in the source.",
            )
        seen[slug] = label


_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})(?:M|-)(\d{1,2})(?:-01)?$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})[QK]([1-4])$", re.IGNORECASE)


def normalize_period(text: str) -> str | None:
    """Return the period as "YYYY", "YYYY-MM" or "YYYYQn", or None when it is not one.

    Accepts "2023", "2023M01", "2023-01", "2023-01-01" (first of the month), "2023Q1" and
    the Finnish "2023K1".

    >>> normalize_period("2018M07"), normalize_period("2006-01-01"), normalize_period("x")
    ('2018-07', '2006-01', None)
    """
    text = text.strip()
    if _YEAR.match(text):
        return text
    if m := _MONTH.match(text):
        month = int(m.group(2))
        return f"{m.group(1)}-{month:02d}" if 1 <= month <= 12 else None
    if m := _QUARTER.match(text):
        return f"{m.group(1)}Q{m.group(2)}"
    return None
