"""Fairness audit at the list operating point: for whom do the lists work worse?

For each sensitive attribute (gender, language, area group, age band) the audit compares
groups on selection rate, precision, recall (true positive rate), false positive and
false negative rates, using fairlearn's MetricFrame on the rows the capacity-limited
lists selected. Each rate gets its ratio to a reference group (the largest) and a flag
when the ratio leaves [ratio_low, ratio_high]. Cells resting on fewer than ``min_cell``
persons are suppressed: the rate, its ratio and its flag are left empty.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import precision_score

RATES = ("selection_rate", "precision", "recall", "false_positive_rate", "false_negative_rate")
# Which count each rate rests on (its denominator), for suppression.
DENOMINATOR = {
    "selection_rate": "n",
    "precision": "selected",
    "recall": "positives",
    "false_positive_rate": "negatives",
    "false_negative_rate": "positives",
}


def _precision(
    y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    return float(precision_score(y_true, y_pred, sample_weight=sample_weight, zero_division=np.nan))


def audit(
    rows: pl.DataFrame,
    attributes: Sequence[str],
    *,
    min_cell: int,
    ratio_low: float,
    ratio_high: float,
) -> pl.DataFrame:
    """One row per (attribute, group) with rates, ratios to the reference and flags.

    ``rows`` needs ``label`` (0/1), ``selected`` (bool) and the attribute columns; a
    missing attribute value is its own group, "not given".
    """
    out = []
    for attribute in attributes:
        if attribute not in rows.columns:
            continue
        # fairlearn sees one row per (group, outcome, selected) with its count as the
        # sample weight: the same rates, without a Python call per person.
        cells = (
            rows.select(
                pl.col(attribute).cast(pl.String).fill_null("not given").alias("group"),
                pl.col("label").cast(pl.Int64).alias("y"),
                pl.col("selected").cast(pl.Int64).alias("p"),
            )
            .group_by("group", "y", "p")
            .len()
            .sort("group", "y", "p")
        )
        weights = cells["len"].to_numpy().astype(float)
        params = {name: {"sample_weight": weights} for name in RATES}
        frame = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "precision": _precision,
                "recall": true_positive_rate,
                "false_positive_rate": false_positive_rate,
                "false_negative_rate": false_negative_rate,
            },
            y_true=cells["y"].to_numpy(),
            y_pred=cells["p"].to_numpy(),
            sensitive_features=cells["group"].to_numpy(),
            sample_params=params,
        )
        by_group = pl.from_pandas(frame.by_group.reset_index()).rename(
            {frame.by_group.index.name or "sensitive_feature_0": "group"}
        )
        counts = cells.group_by("group").agg(
            n=pl.col("len").sum(),
            selected=(pl.col("len") * pl.col("p")).sum(),
            positives=(pl.col("len") * pl.col("y")).sum(),
            negatives=(pl.col("len") * (1 - pl.col("y"))).sum(),
        )
        table = counts.join(by_group, on="group").with_columns(attribute=pl.lit(attribute))
        out.append(_ratios(table, min_cell, ratio_low, ratio_high))
    if not out:
        return pl.DataFrame()
    return pl.concat(out, how="diagonal").select(
        "attribute", "group", "reference", "n", "selected", "positives",
        *[c for r in RATES for c in (r, f"{r}_ratio", f"{r}_flag")],
    ).sort("attribute", "group")  # fmt: skip


def _ratios(table: pl.DataFrame, min_cell: int, low: float, high: float) -> pl.DataFrame:
    suppressed = table.with_columns(
        [
            pl.when(pl.col(DENOMINATOR[r]) >= min_cell).then(pl.col(r)).otherwise(None).alias(r)
            for r in RATES
        ]
    )
    reference = suppressed.sort(["n", "group"], descending=[True, False])["group"][0]
    ref_row = suppressed.filter(pl.col("group") == reference)
    exprs = []
    for r in RATES:
        ref = ref_row[r][0]
        ratio = (pl.col(r) / ref) if ref not in (None, 0) and not np.isnan(ref) else pl.lit(None)
        ratio = pl.when(pl.col(r).is_not_nan()).then(ratio).otherwise(None)
        exprs += [
            ratio.cast(pl.Float64).alias(f"{r}_ratio"),
            ((ratio < low) | (ratio > high)).fill_null(False).alias(f"{r}_flag"),
        ]
    n_suppressed = pl.when(pl.col("n") >= min_cell).then(pl.col("n"))
    return suppressed.with_columns(exprs).with_columns(
        reference=pl.lit(reference),
        n=n_suppressed,
        selected=pl.when(pl.col("n").is_not_null() & (pl.col("selected") >= min_cell)).then(
            pl.col("selected")
        ),
        positives=pl.when(pl.col("n").is_not_null() & (pl.col("positives") >= min_cell)).then(
            pl.col("positives")
        ),
    )


def flag_count(table: pl.DataFrame) -> int:
    """How many (attribute, group, rate) cells are flagged."""
    if table.is_empty():
        return 0
    return int(table.select(pl.sum_horizontal([pl.col(f"{r}_flag") for r in RATES]).sum()).item())
