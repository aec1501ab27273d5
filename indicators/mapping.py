"""Move indicators from one area level to another through a configured mapping.

A mapping is a table with ``from_level, from_code, to_level, to_code`` and an optional
``share`` (the fraction of the source area's count that belongs to the target; 1 when
absent). :func:`indicators.hierarchy.read_area_hierarchy` gives one for Helsinki's
districts; a postal-code → district crosswalk with shares has the same shape.

Areas with no mapping are not dropped silently: they are returned in ``unmapped`` with how
many rows they had, so the caller can decide whether a partial total is acceptable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from features.errors import SourceError
from indicators.schema import AREA_LEVELS, LONG_COLUMNS, sort_long, validate_long

How = Literal["sum", "mean", "weighted"]
_REQUIRED = ("from_level", "from_code", "to_level", "to_code")


@dataclass(frozen=True)
class AreaMapping:
    """The result of :func:`map_areas`.

    Attributes
    ----------
    data
        Long form at the target level.
    unmapped
        ``area_level, area_code, rows``: source areas with no mapping to the target level.
    missing_weight
        Rows left out of a weighted mean because their area had no weight that period.
    """

    data: pl.DataFrame
    unmapped: pl.DataFrame
    missing_weight: int = 0


def map_areas(
    long_df: pl.DataFrame,
    mapping: pl.DataFrame,
    to_level: str,
    *,
    from_level: str | None = None,
    how: How = "sum",
    weight_indicator: str | None = None,
) -> AreaMapping:
    """Aggregate the ``from_level`` rows of ``long_df`` to ``to_level`` areas.

    Parameters
    ----------
    long_df
        Indicators in the long form.
    mapping
        ``from_level, from_code, to_level, to_code[, share]``.
    to_level
        The target level, e.g. ``"major_district"``.
    from_level
        The level to move; by default the only level in ``long_df`` other than ``to_level``
        (mixing levels would count the same people twice, so several levels need a choice).
    how
        ``"sum"`` for counts (value × share, summed), ``"mean"`` for an unweighted mean (shares
        weight it), ``"weighted"`` for a mean weighted by ``weight_indicator`` (e.g. a rate
        weighted by ``labour_force``); the weight indicator itself is not in the output.

    Returns
    -------
    AreaMapping
        The mapped rows, the unmapped source areas, and how many rows lacked a weight.

    Notes
    -----
    A target area's value covers only the source areas that had a value for that indicator
    and period; a sum over a partly missing set of districts is an undercount.
    """
    source = "map_areas"
    _check_request(how, weight_indicator, to_level)
    long_df = validate_long(long_df, source)
    edges = _edges(mapping, to_level)
    from_level = _from_level(long_df, to_level, from_level, source)
    rows = long_df.filter(pl.col("area_level") == from_level)
    edges = edges.filter(pl.col("from_level") == from_level).select("from_code", "to_code", "share")

    joined = rows.join(edges, left_on="area_code", right_on="from_code", how="left")
    unmapped = (
        joined.filter(pl.col("to_code").is_null())
        .group_by("area_level", "area_code")
        .agg(rows=pl.len())
        .sort("area_code")
    )
    mapped, value, missing_weight = _aggregation(
        joined.filter(pl.col("to_code").is_not_null()), rows, how, weight_indicator
    )
    out = (
        mapped.group_by("to_code", "period", "indicator")
        .agg(value=value)
        .filter(pl.col("value").is_not_null() & pl.col("value").is_finite())
        .select(
            area_code=pl.col("to_code"),
            area_level=pl.lit(to_level),
            period=pl.col("period"),
            indicator=pl.col("indicator"),
            value=pl.col("value").cast(pl.Float64),
        )
        .select(LONG_COLUMNS)
    )
    return AreaMapping(
        data=sort_long(validate_long(out, source)) if out.height else out,
        unmapped=unmapped,
        missing_weight=missing_weight,
    )


def _check_request(how: str, weight_indicator: str | None, to_level: str) -> None:
    """A programming mistake in the call is a ``ValueError`` before any data is touched."""
    if how not in ("sum", "mean", "weighted"):
        raise ValueError(f"how must be 'sum', 'mean' or 'weighted', not {how!r}")
    if how == "weighted" and not weight_indicator:
        raise ValueError("how='weighted' needs weight_indicator (e.g. 'labour_force')")
    if to_level not in AREA_LEVELS:
        raise ValueError(f"unknown to_level {to_level!r}; expected one of {AREA_LEVELS}")


def _aggregation(
    mapped: pl.DataFrame, rows: pl.DataFrame, how: How, weight_indicator: str | None
) -> tuple[pl.DataFrame, pl.Expr, int]:
    """The rows to aggregate, the value per target area, and how many rows lacked a weight.

    For ``"weighted"`` the weight indicator leaves the rows (it weighs, it is not mapped)
    and rows without a weight that period are left out and counted.
    """
    if how == "weighted":
        weights = rows.filter(pl.col("indicator") == weight_indicator).select(
            "area_code", "period", weight=pl.col("value")
        )
        mapped = mapped.filter(pl.col("indicator") != weight_indicator).join(
            weights, on=["area_code", "period"], how="left"
        )
        missing_weight = mapped.get_column("weight").null_count()
        mapped = mapped.filter(pl.col("weight").is_not_null())
        w = pl.col("weight") * pl.col("share")
        return (
            mapped,
            pl.when(w.sum() > 0).then((pl.col("value") * w).sum() / w.sum()),
            missing_weight,
        )
    if how == "mean":
        return mapped, (pl.col("value") * pl.col("share")).sum() / pl.col("share").sum(), 0
    return mapped, (pl.col("value") * pl.col("share")).sum(), 0


def _edges(mapping: pl.DataFrame, to_level: str) -> pl.DataFrame:
    missing = [c for c in _REQUIRED if c not in mapping.columns]
    if missing:
        raise SourceError(
            "mapping",
            f"missing column(s) {', '.join(missing)}",
            column=missing[0],
            examples=[f"columns found: {', '.join(mapping.columns)}"],
        )
    share = pl.col("share").cast(pl.Float64) if "share" in mapping.columns else pl.lit(1.0)
    edges = mapping.filter(pl.col("to_level") == to_level).select(
        *[pl.col(c).cast(pl.String) for c in _REQUIRED], share=share
    )
    dupes = edges.filter(pl.struct("from_level", "from_code", "to_code").is_duplicated())
    if dupes.height:
        raise SourceError(
            "mapping",
            "the same source and target areas appear more than once",
            examples=dupes.head(5).to_dicts(),
        )
    bad_share = edges.filter(pl.col("share").is_null() | (pl.col("share") < 0))
    if bad_share.height:
        raise SourceError(
            "mapping",
            "share must be a number ≥ 0",
            column="share",
            examples=bad_share.head(5).to_dicts(),
        )
    return edges


def _from_level(long_df: pl.DataFrame, to_level: str, from_level: str | None, source: str) -> str:
    levels = sorted(set(long_df.get_column("area_level").to_list()) - {to_level})
    if from_level is not None:
        if from_level == to_level:
            raise ValueError("from_level and to_level are the same")
        return from_level
    if len(levels) == 1:
        return levels[0]
    raise SourceError(
        source,
        "cannot tell which level to map: "
        + (f"levels {', '.join(levels)} are all present" if levels else "no rows to map"),
        column="area_level",
        hint="Pass from_level= explicitly.",
    )
