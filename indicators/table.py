"""What a reader returns: the long-form frame plus a report of what was dropped and why.

Readers build a frame with a nullable ``value`` (null = the publisher's missing marker) and
hand it to :func:`finish`, which counts and drops the missing cells, validates the contract and
sorts the rows, so that every format ends the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from features.errors import SourceError
from indicators.schema import LONG_COLUMNS, sort_long, validate_long

#: Cells that mean "no value": PC-Axis dots (".." not available, "." logically impossible,
#: "..." to "......" other publisher codes), "-" and empty.
MISSING_MARKERS: frozenset[str] = frozenset({"", ".", "..", "...", "....", ".....", "......", "-"})


@dataclass(frozen=True)
class ReadReport:
    """What happened while reading one file.

    Attributes
    ----------
    source
        The file read.
    kind
        The format it was read as (``paavo``, ``pcaxis``, ...).
    rows
        Rows in the long form.
    dropped_missing
        Cells dropped because the publisher marked them missing.
    labels
        Indicator slug → the label as published.
    notes
        Anything else worth knowing (units, assumed area, ignored columns).
    """

    source: str
    kind: str
    rows: int
    dropped_missing: int
    labels: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicatorTable:
    """A validated long-form frame and the report of how it was read."""

    data: pl.DataFrame
    report: ReadReport

    def with_labels(self) -> pl.DataFrame:
        """Return the frame with an extra ``indicator_label`` column (the published label)."""
        labels = pl.DataFrame(
            {
                "indicator": list(self.report.labels),
                "indicator_label": list(self.report.labels.values()),
            },
            schema={"indicator": pl.String, "indicator_label": pl.String},
        )
        return self.data.join(labels, on="indicator", how="left", maintain_order="left")


def parse_values(
    texts: pl.Series,
    *,
    decimal_comma: bool = False,
    missing: frozenset[str] = MISSING_MARKERS,
) -> tuple[pl.Series, pl.Series]:
    """Parse published numbers; return ``(values, bad)``.

    ``values`` is Float64 with null for missing markers; ``bad`` marks cells that are neither
    a finite number nor a missing marker, for the caller to report with context.
    """
    text = texts.cast(pl.String).str.strip_chars()
    is_missing = text.is_null() | text.is_in(list(missing))
    cleaned = text
    if decimal_comma:
        cleaned = cleaned.str.replace_all(r"[\s\u00a0]", "").str.replace(",", ".", literal=True)
    values = cleaned.cast(pl.Float64, strict=False)
    bad = ~is_missing & (values.is_null() | ~values.is_finite().fill_null(False))
    values = pl.select(
        pl.when(is_missing | bad).then(None).otherwise(values).alias("value")
    ).to_series()
    return values, bad


def raise_bad_values(frame: pl.DataFrame, bad: pl.Series, source: str, column: str) -> None:
    """Raise SourceError naming up to five rows of ``frame`` where ``bad`` is true."""
    if not bad.any():
        return
    rows = frame.filter(bad).head(5).to_dicts()
    raise SourceError(
        source,
        f"{int(bad.sum())} value(s) are not numbers (nor a missing marker such as '..')",
        column=column,
        examples=rows,
    )


def finish(
    frame: pl.DataFrame,
    *,
    source: str,
    kind: str,
    labels: Mapping[str, str],
    notes: tuple[str, ...] = (),
) -> IndicatorTable:
    """Drop missing cells, validate, sort and wrap ``frame`` (the five long-form columns)."""
    frame = frame.select(LONG_COLUMNS)
    dropped = frame.get_column("value").null_count()
    data = frame.filter(pl.col("value").is_not_null())
    if data.height == 0:
        raise SourceError(
            source,
            "no values to read" + (f": all {dropped} cells are missing" if dropped else ""),
        )
    data = sort_long(validate_long(data, source))
    used = set(data.get_column("indicator").unique().to_list())
    report = ReadReport(
        source=source,
        kind=kind,
        rows=data.height,
        dropped_missing=dropped,
        labels={slug: label for slug, label in sorted(labels.items()) if slug in used},
        notes=notes,
    )
    return IndicatorTable(data=data, report=report)
