"""Statistics Finland Paavo (open data by postal code area) CSV exports, and rates from them.

The export is Latin-1 (newer ones UTF-8), has title lines above a header
``"Postal code area","Information","2023"`` and one row per area and variable; every column
after the first two is a year. Areas read ``"00100  Helsinki keskusta - Etu-Töölö (Helsinki)"``
and become ``area_code="00100"``, ``area_level="postal_code"``. Variables become slugs of the
published label: ``"Unemployed (PT)"`` → ``unemployed_pt``, ``"18-19 years (HE)"`` →
``18_19_years_he``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from features.errors import SourceError
from features.text import decode_text, read_bytes
from indicators.areas import parse_area
from indicators.labels import check_unique_slugs, normalize_period, slugify
from indicators.schema import LONG_COLUMNS, sort_long, validate_long
from indicators.table import IndicatorTable, finish, parse_values, raise_bad_values


def read_paavo(path: Path, *, encoding: str | None = None) -> IndicatorTable:
    """Read a Paavo CSV export (English or Finnish headings) into the long form."""
    source = str(path)
    text, used = decode_text(read_bytes(path), source, encoding=encoding, fallback="latin-1")
    lines = text.split("\n")
    delimiter = ";" if lines and lines[0].count(";") > lines[0].count(",") else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    header_at, periods = _header(rows, source)
    header = rows[header_at]
    records: list[tuple[str, str, str, str, str, str]] = []
    bad_areas: list[str] = []
    labels: dict[str, str] = {}
    for line_no, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SourceError(
                source,
                f"line {line_no} has {len(row)} fields, the header has {len(header)}",
                examples=[delimiter.join(row)],
            )
        area = parse_area(row[0])
        if area is None:
            bad_areas.append(row[0])
            continue
        slug = slugify(row[1])
        labels.setdefault(row[1], slug)
        for period, cell in zip(periods, row[2:], strict=True):
            records.append((area[0], area[1], period, slug, cell, row[0]))
    if bad_areas:
        raise SourceError(
            source,
            f"{len(bad_areas)} row(s) have no postal code area",
            column=header[0],
            examples=sorted(set(bad_areas))[:5],
        )
    if not records:
        raise SourceError(source, "no data rows after the header", examples=[",".join(header)])
    check_unique_slugs(labels, source, column=header[1])
    frame = pl.DataFrame(
        records,
        schema=["area_code", "area_level", "period", "indicator", "text", "area_label"],
        orient="row",
    )
    values, bad = parse_values(frame.get_column("text"))
    raise_bad_values(frame.drop("area_code", "area_level"), bad, source, column="value")
    frame = frame.with_columns(values)
    return finish(
        frame,
        source=source,
        kind="paavo",
        labels={slug: label for label, slug in labels.items()},
        notes=(f"encoding: {used}",),
    )


def _header(rows: list[list[str]], source: str) -> tuple[int, list[str]]:
    """Find the header: two label columns, then one period per column."""
    for i, row in enumerate(rows[:20]):
        cells = [c.strip() for c in row]
        if len(cells) >= 3 and cells[0] and cells[1]:
            periods = [normalize_period(c) for c in cells[2:]]
            if all(periods):
                return i, [p for p in periods if p]
    raise SourceError(
        source,
        "no Paavo header row (area, variable, then one column per year) in the first 20 lines",
        examples=[",".join(r) for r in rows[:3]],
    )


@dataclass(frozen=True)
class _Derived:
    name: str
    inputs: tuple[str, ...]
    formula: Callable[[], pl.Expr]
    denominator: str | None  # rows where it is 0 are dropped (no inf, no fake zeros)


def _col(name: str) -> pl.Expr:
    return pl.col(name)


_LABOUR = _col("employed_pt") + _col("unemployed_pt")
_YOUTH = _col("18_19_years_he") + _col("20_24_years_he") + _col("25_29_years_he")

#: Derived indicators: rates in percent (``unemployment_rate``), shares as fractions 0..1
#: (``*_share``), counts and euros as published.
DERIVED: tuple[_Derived, ...] = (
    _Derived(
        "unemployment_rate",
        ("employed_pt", "unemployed_pt"),
        lambda: 100.0 * _col("unemployed_pt") / _LABOUR,
        "labour_force",
    ),
    _Derived("labour_force", ("employed_pt", "unemployed_pt"), lambda: _LABOUR, None),
    _Derived(
        "youth_18_29",
        ("18_19_years_he", "20_24_years_he", "25_29_years_he"),
        lambda: _YOUTH,
        None,
    ),
    # The three bands on their own: the reach and consent funnel compares consenting
    # persons per age band with them (youth_18_29 alone cannot say which ages are missed).
    *(
        _Derived(
            f"youth_{band}", (f"{band}_years_he",), lambda band=band: _col(f"{band}_years_he"), None
        )
        for band in ("18_19", "20_24", "25_29")
    ),
    _Derived(
        "youth_share",
        ("18_19_years_he", "20_24_years_he", "25_29_years_he", "inhabitants_total_he"),
        lambda: _YOUTH / _col("inhabitants_total_he"),
        "inhabitants_total_he",
    ),
    _Derived(
        "student_share",
        ("students_pt", "inhabitants_total_pt"),
        lambda: _col("students_pt") / _col("inhabitants_total_pt"),
        "inhabitants_total_pt",
    ),
    _Derived(
        "basic_education_share",
        ("basic_level_studies_ko", "aged_18_or_over_total_ko"),
        lambda: _col("basic_level_studies_ko") / _col("aged_18_or_over_total_ko"),
        "aged_18_or_over_total_ko",
    ),
    # Paavo publishes 0 as the median income of an area without adult inhabitants: that is
    # "no income data", not an income of 0 euros.
    _Derived(
        "median_income",
        ("median_income_of_inhabitants_hr", "aged_18_or_over_total_hr"),
        lambda: _col("median_income_of_inhabitants_hr"),
        "aged_18_or_over_total_hr",
    ),
)


def derive_paavo_rates(long_df: pl.DataFrame, *, keep_inputs: bool = False) -> pl.DataFrame:
    """Derive rates and shares from Paavo's raw counts, per postal area and year.

    Returns the derived indicators in the long form (with the input rows too when
    ``keep_inputs``). A derived value whose denominator is 0 is dropped, never inf: Paavo has
    areas without inhabitants (00230 in Helsinki). Indicators whose inputs are absent are
    skipped; if none can be derived, SourceError names the missing inputs.

    ``unemployment_rate`` = 100 × unemployed_pt / (employed_pt + unemployed_pt) (percent, the
    unit statistics offices use); ``labour_force`` = employed_pt + unemployed_pt;
    ``youth_18_29`` = 18-19 + 20-24 + 25-29 year-olds, and ``youth_18_19``, ``youth_20_24``,
    ``youth_25_29`` each band alone (counts); ``youth_share`` = youth_18_29 /
    inhabitants; ``student_share`` = students / inhabitants (PT); ``basic_education_share`` =
    basic level only / aged 18 or over (KO); ``median_income`` = median income of inhabitants
    (HR), dropped where there are no adult inhabitants. Shares are fractions 0..1.
    """
    source = "derive_paavo_rates"
    long_df = validate_long(long_df, source)
    present = set(long_df.get_column("indicator").unique().to_list())
    usable = [d for d in DERIVED if set(d.inputs) <= present]
    if not usable:
        needed = sorted({i for d in DERIVED for i in d.inputs} - present)
        raise SourceError(
            source,
            "none of the Paavo variables needed for derived rates are present",
            column="indicator",
            examples=needed,
            hint="Read an English Paavo export (slugs such as unemployed_pt, employed_pt).",
        )
    index = ["area_code", "area_level", "period"]
    inputs = sorted({i for d in usable for i in d.inputs})
    wide = long_df.filter(pl.col("indicator").is_in(inputs)).pivot(
        on="indicator", index=index, values="value"
    )
    if {"employed_pt", "unemployed_pt"} <= set(wide.columns):  # denominator of the rate
        wide = wide.with_columns(labour_force=_LABOUR)
    derived = wide.select(
        *index,
        *[
            (
                d.formula()
                if d.denominator is None
                else pl.when(pl.col(d.denominator) > 0).then(d.formula())
            ).alias(d.name)
            for d in usable
        ],
    )
    out = (
        derived.unpivot(index=index, variable_name="indicator", value_name="value")
        .filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
        .select(LONG_COLUMNS)
    )
    if keep_inputs:
        out = pl.concat([long_df, out.filter(~pl.col("indicator").is_in(list(present)))])
    return sort_long(validate_long(out, source))
