"""Files already in the long form (CSV or Parquet): validated, not reshaped.

CSV follows the project's source conventions: UTF-8 with or without BOM, ``,`` or ``;``
separated (``;`` files use decimal commas). Every column is read as text first so that postal
codes keep their leading zeros; missing markers in ``value`` are dropped and counted. An
optional ``indicator_label`` column feeds the report's labels; other extra columns are
refused, so a wide file is not mistaken for a long one.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from features.errors import SourceError
from features.text import csv_error, decode_text, read_bytes, sniff_separator
from indicators.schema import LONG_COLUMNS, check_long_columns
from indicators.table import IndicatorTable, finish, parse_values, raise_bad_values

LABEL_COLUMN = "indicator_label"


def read_long(path: Path, *, encoding: str | None = None) -> IndicatorTable:
    """Read and validate a long-form CSV or Parquet file."""
    source = str(path)
    if path.suffix.lower() in {".parquet", ".pq"}:
        frame, decimal_comma = _read_parquet(path, source), False
    else:
        frame, decimal_comma = _read_csv(path, source, encoding)
    check_long_columns(frame, source, allowed=(LABEL_COLUMN,))
    if frame.height == 0:
        raise SourceError(
            source, "no data rows below the header", examples=[",".join(frame.columns)]
        )
    for column in LONG_COLUMNS[:4]:
        dtype = frame.schema[column]
        if dtype != pl.String:
            raise SourceError(
                source,
                f"column {column} must be text, found {dtype}",
                column=column,
                hint="Codes such as postal code 00100 lose their leading zeros as numbers.",
            )
    labels: dict[str, str] = {}
    if LABEL_COLUMN in frame.columns:
        pairs = frame.select("indicator", LABEL_COLUMN).unique().drop_nulls()
        labels = dict(zip(pairs["indicator"], pairs[LABEL_COLUMN], strict=True))
    value = frame.get_column("value")
    if value.dtype.is_numeric():
        values = value.cast(pl.Float64)
        bad = ~values.is_finite().fill_null(True)
    else:
        values, bad = parse_values(value, decimal_comma=decimal_comma)
    raise_bad_values(frame.select(LONG_COLUMNS), bad, source, column="value")
    return finish(
        frame.select(LONG_COLUMNS[:4]).with_columns(values.alias("value")),
        source=source,
        kind="long",
        labels=labels or {i: i for i in frame.get_column("indicator").unique().drop_nulls()},
    )


def _read_parquet(path: Path, source: str) -> pl.DataFrame:
    if path.stat().st_size == 0:
        raise SourceError(source, "the file is empty (0 bytes)")
    try:
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as err:
        raise SourceError(source, f"cannot read as Parquet: {str(err).splitlines()[0]}") from None


def _read_csv(path: Path, source: str, encoding: str | None) -> tuple[pl.DataFrame, bool]:
    text, _ = decode_text(read_bytes(path), source, encoding=encoding)
    # "," unless ";" is more frequent on the header line (";" files use decimal commas)
    separator = sniff_separator(text.split("\n", 1)[0], candidates=(",", ";"))
    try:
        frame = pl.read_csv(io.StringIO(text), separator=separator, infer_schema=False)
    except pl.exceptions.PolarsError as err:
        raise csv_error(source, text, separator, err) from None
    return frame.rename({c: c.strip() for c in frame.columns}), separator == ";"
