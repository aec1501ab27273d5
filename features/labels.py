"""Labels: does the person register as an unemployed job seeker within (D, D + horizon]?

A row is labelled only when its whole horizon has been observed: ``D + horizon`` must
fall before ``observed_until`` (the day the outcome extract was made). Later rows are
left out of training and evaluation, not counted as negatives.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl


def last_labelled(observed_until: date, horizon_days: int) -> date:
    """The latest as-of date whose horizon is fully observed."""
    return observed_until - timedelta(days=horizon_days + 1)


def attach_labels(
    rows: pl.DataFrame, outcomes: pl.DataFrame, horizon_days: int, observed_until: date
) -> pl.DataFrame:
    """Add ``label`` (0/1) to (person_id, as_of) rows; drop rows whose horizon is unobserved."""
    rows = rows.filter(pl.col("as_of") <= last_labelled(observed_until, horizon_days))
    hits = (
        rows.select("person_id", "as_of")
        .join(outcomes.select("person_id", "registered_at"), on="person_id", how="inner")
        .filter(
            (pl.col("registered_at") > pl.col("as_of"))
            & (pl.col("registered_at") <= pl.col("as_of") + pl.duration(days=horizon_days))
        )
        .select("person_id", "as_of")
        .unique()
        .with_columns(label=pl.lit(1, dtype=pl.Int8))
    )
    return rows.join(hits, on=["person_id", "as_of"], how="left").with_columns(
        pl.col("label").fill_null(0)
    )
