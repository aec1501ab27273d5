"""Aggregate employment indicators (area × period) from published files, in one long form.

Every reader returns an :class:`IndicatorTable`: ``.data`` is a polars DataFrame with exactly
``area_code, area_level, period, indicator, value`` (String ×4, Float64), validated by
:data:`IndicatorSchema` and sorted by area_level, area_code, indicator, period; ``.report`` is
a :class:`ReadReport` with the missing cells dropped, the published label of every indicator
and notes.

Conventions
-----------
area_level
    ``country``, ``municipality``, ``major_district`` (suurpiiri/suuralue),
    ``basic_district`` (peruspiiri), ``sub_district`` (osa-alue; Vantaa's kaupunginosat),
    ``postal_code``, plus ``district_group`` (Helsinki's "Kantakaupunki"/"Esikaupungit") and
    ``unallocated`` ("Muut": people with no district) which Aluesarjat files publish.
area_code
    ``"SSS"`` for the whole country; 3-digit municipality code (``"091"``); for a
    municipality known only by name, its code from a short shipped table or else the slug of
    the name (``"koski_tl"``); districts as Aluesarjat writes them, with the municipality
    prefix (``"091 1"``, ``"091 101"``, ``"091 10"``, ``"092 15"``); postal codes as 5 digits.
    Helsinki reuses numbers across levels ("091 201" is both Reijolan peruspiiri and
    Ruoholahti), so **an area is (area_code, area_level)**: join on both.
period
    ``"YYYY"``, ``"YYYY-MM"`` or ``"YYYYQn"``.
indicator
    snake_case ASCII. Paavo: the slug of the English label (``unemployed_pt``). PC-Axis,
    JSON-stat and PxWeb: the measure first, then the other categories, with a few Finnish
    terms translated (``Työttömät, Miehet`` → ``unemployed_men``; ``Työttömyysaste`` 15-24 →
    ``unemployment_rate_15_24``) and totals left out; other labels transliterated.
    ``IndicatorTable.with_labels()`` adds the published label.
value
    As published, except rates, which are percent everywhere (the monthly municipality table's
    share 0..1 is multiplied by 100). Derived Paavo ``*_share`` indicators are fractions 0..1.

Missing markers (``..``, ``.``, ``-``, empty, PX ``DATASYMBOL``s, JSON null) are dropped and
counted in ``ReadReport.dropped_missing``. Every failure on user input raises
:class:`features.errors.SourceError` naming the file.
"""

from indicators.areas import municipality_code, parse_area
from indicators.detect import KINDS, detect_kind
from indicators.hierarchy import read_area_hierarchy
from indicators.mapping import AreaMapping, map_areas
from indicators.paavo import derive_paavo_rates
from indicators.read import ConvertSummary, convert, read_indicators
from indicators.schema import (
    AREA_LEVELS,
    LONG_COLUMNS,
    IndicatorSchema,
    validate_long,
)
from indicators.table import IndicatorTable, ReadReport

__all__ = [
    "AREA_LEVELS",
    "KINDS",
    "LONG_COLUMNS",
    "AreaMapping",
    "ConvertSummary",
    "IndicatorSchema",
    "IndicatorTable",
    "ReadReport",
    "convert",
    "derive_paavo_rates",
    "detect_kind",
    "map_areas",
    "municipality_code",
    "parse_area",
    "read_area_hierarchy",
    "read_indicators",
    "validate_long",
]
