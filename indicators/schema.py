"""The long-form contract every indicator reader produces, as a pandera (polars) schema.

One shape for every publisher means the feature builder joins indicators without knowing
where they came from. ``(area_code, area_level)`` together name an area: Helsinki's basic
districts and sub-districts reuse numbers ("091 201" is both Reijolan peruspiiri and
Ruoholahti), so the level is part of the key everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from features.errors import SourceError

LONG_COLUMNS: tuple[str, ...] = ("area_code", "area_level", "period", "indicator", "value")
KEY_COLUMNS: tuple[str, ...] = ("area_code", "area_level", "period", "indicator")
SORT_COLUMNS: tuple[str, ...] = ("area_level", "area_code", "indicator", "period")

AREA_LEVELS: tuple[str, ...] = (
    "country",
    "municipality",
    "major_district",
    "basic_district",
    "sub_district",
    "postal_code",
    # Aluesarjat also publishes "091 997 Esikaupungit" / "091 998 Kantakaupunki" (suburbs and
    # inner city, groups of major districts) and "091 999 Muut" (rows that fit no district).
    "district_group",
    "unallocated",
)

#: "YYYY" (year), "YYYY-MM" (month) or "YYYYQn" (quarter).
PERIOD_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])|Q[1-4])?$"
#: snake_case ASCII: lower-case letters and digits joined by single underscores.
SLUG_PATTERN = r"^[a-z0-9]+(_[a-z0-9]+)*$"

IndicatorSchema = pa.DataFrameSchema(
    {
        "area_code": pa.Column(pl.String, pa.Check.str_length(min_value=1)),
        "area_level": pa.Column(pl.String, pa.Check.isin(AREA_LEVELS)),
        "period": pa.Column(pl.String, pa.Check.str_matches(PERIOD_PATTERN)),
        "indicator": pa.Column(pl.String, pa.Check.str_matches(SLUG_PATTERN)),
        "value": pa.Column(
            pl.Float64,
            pa.Check(
                lambda data: data.lazyframe.select(pl.col(data.key).is_finite()),
                name="finite",
                error="value must be a finite number",
            ),
        ),
    },
    unique=list(KEY_COLUMNS),
    strict=True,
    ordered=True,
    name="IndicatorSchema",
)


def check_long_columns(df: pl.DataFrame, source: str, allowed: Sequence[str] = ()) -> None:
    """Refuse a long-form frame that lacks one of :data:`LONG_COLUMNS` or has a column
    neither they nor ``allowed`` name."""
    missing = [c for c in LONG_COLUMNS if c not in df.columns]
    if missing:
        raise SourceError(
            source,
            f"missing column(s) {', '.join(missing)}; the long form needs "
            f"{', '.join(LONG_COLUMNS)}",
            column=missing[0],
            examples=[f"columns found: {', '.join(df.columns)}"],
        )
    extra = [c for c in df.columns if c not in (*LONG_COLUMNS, *allowed)]
    if extra:
        raise SourceError(source, f"unexpected column(s) {', '.join(extra)}", column=extra[0])


def validate_long(df: pl.DataFrame, source: str) -> pl.DataFrame:
    """Validate ``df`` against :data:`IndicatorSchema`, raising SourceError on any failure."""
    check_long_columns(df, source)
    try:
        return IndicatorSchema.validate(df.select(LONG_COLUMNS), lazy=True)
    except SchemaErrors as err:
        raise _schema_failure(err.failure_cases, source) from None
    except SchemaError as err:  # pragma: no cover - lazy=True reports SchemaErrors
        raise SourceError(source, str(err).splitlines()[0]) from None


def _schema_failure(cases: pl.DataFrame, source: str) -> SourceError:
    """Summarise pandera's failure table as one SourceError: first failing check, examples."""
    keys = ", ".join(KEY_COLUMNS)
    cases = cases.with_columns(
        pl.when(pl.col("check") == "multiple_fields_uniqueness")
        .then(pl.lit(keys))
        .otherwise(pl.col("column").fill_null(keys))
        .alias("column")
    )
    groups = cases.group_by(["column", "check"], maintain_order=True).agg(
        pl.col("failure_case").cast(pl.String).head(5).alias("examples"),
        pl.len().alias("n"),
    )
    first = groups.row(0, named=True)
    checks = "; ".join(
        f"{row['column']}: {_check_text(row['check'])} ({row['n']} rows)"
        for row in groups.iter_rows(named=True)
    )
    return SourceError(
        source,
        f"does not match the indicator long form: {checks}",
        column=first["column"],
        examples=_examples(first["examples"]),
    )


def _check_text(check: str) -> str:
    if check == "multiple_fields_uniqueness":
        return "duplicate keys"
    if check.startswith("str_matches"):
        return f"does not match {check.removeprefix('str_matches')}"
    return check


def _examples(values: Sequence[str | None]) -> list[str]:
    return ["<null>" if v is None else v for v in values]


def sort_long(df: pl.DataFrame) -> pl.DataFrame:
    """Return ``df`` in the canonical, deterministic row order."""
    return df.sort(list(SORT_COLUMNS))
