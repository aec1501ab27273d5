"""The monthly municipality table of the employment service statistics (2006-01 to 2018-07).

Columns ``month, municipality, region, employed_derived, unemployed_jobseekers,
unemployment_rate, labour_force``; one row per municipality and month. It gives names, not
codes: :func:`indicators.areas.municipality_code` turns a name into its Statistics
Finland code when the name is in the shipped table (Helsinki "091", Espoo "049", Vantaa "092",
...), otherwise into the slug of the name. ``unemployment_rate`` is published as a share
(0..1) and is multiplied by 100 so that every reader gives rates in percent.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from features.errors import SourceError
from features.text import csv_error, decode_text, read_bytes
from indicators.areas import municipality_code
from indicators.labels import normalize_period
from indicators.table import IndicatorTable, finish, parse_values, raise_bad_values

#: column → (indicator slug, factor to the published unit)
MEASURES: dict[str, tuple[str, float]] = {
    "unemployed_jobseekers": ("unemployed_jobseekers", 1.0),
    "labour_force": ("labour_force", 1.0),
    "employed_derived": ("employed", 1.0),
    "unemployment_rate": ("unemployment_rate", 100.0),
}
_LABELS = {
    "unemployed_jobseekers": "Unemployed job seekers",
    "labour_force": "Labour force",
    "employed": "Employed (derived: labour force - unemployed job seekers)",
    "unemployment_rate": "Unemployment rate, % (published as a share 0..1, x100)",
}


def read_tyonv_monthly(path: Path, *, encoding: str | None = None) -> IndicatorTable:
    """Read the monthly municipality unemployment table into the long form."""
    source = str(path)
    text, _ = decode_text(read_bytes(path), source, encoding=encoding)
    try:
        raw = pl.read_csv(io.StringIO(text), infer_schema=False)
    except pl.exceptions.PolarsError as err:
        raise csv_error(source, text, ",", err) from None
    required = ["month", "municipality", *MEASURES]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise SourceError(
            source,
            f"missing column(s) {', '.join(missing)}",
            column=missing[0],
            examples=[f"columns found: {', '.join(raw.columns)}"],
        )
    if raw.height == 0:
        raise SourceError(source, "no data rows below the header", examples=[",".join(raw.columns)])

    months = raw.get_column("month").unique().to_list()
    period_of = {m: normalize_period(m or "") for m in months}
    if bad := [m for m, p in period_of.items() if p is None or len(p) != 7]:
        raise SourceError(
            source, "month is not a month (YYYY-MM or YYYY-MM-01)", column="month", examples=bad
        )
    names = raw.get_column("municipality").unique().to_list()
    if any(not (n or "").strip() for n in names):
        raise SourceError(source, "empty municipality name", column="municipality")
    code_of = {n: municipality_code(n) for n in names}
    if len(set(code_of.values())) != len(code_of):
        raise SourceError(
            source, "two municipality names give the same code", column="municipality"
        )

    keyed = raw.select(
        area_code=pl.col("municipality").replace_strict(code_of),
        area_level=pl.lit("municipality"),
        period=pl.col("month").replace_strict(period_of),
        month=pl.col("month"),
        municipality=pl.col("municipality"),
    )
    frames = []
    for column, (slug, factor) in MEASURES.items():
        values, bad = parse_values(raw.get_column(column))
        raise_bad_values(raw.select("month", "municipality", column), bad, source, column=column)
        if slug == "unemployment_rate" and (values > 1.0).any():
            raise SourceError(
                source,
                "unemployment_rate has values above 1; expected a share 0..1",
                column=column,
                examples=raw.filter(values > 1.0).head(3).to_dicts(),
            )
        frames.append(
            keyed.select("area_code", "area_level", "period").with_columns(
                indicator=pl.lit(slug), value=values * factor
            )
        )
    extra = [c for c in raw.columns if c not in (*required, "region")]
    notes = ["unemployment_rate converted from a share (0..1) to percent"]
    if extra:
        notes.append(f"ignored column(s): {', '.join(extra)}")
    return finish(
        pl.concat(frames),
        source=source,
        kind="tyonv_monthly",
        labels=_LABELS,
        notes=tuple(notes),
    )
