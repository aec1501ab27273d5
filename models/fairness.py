"""Fairness audit at the list operating point: for whom do the lists work worse?

For each sensitive attribute (gender, language, area group, age band) the audit compares
groups on selection rate, precision, recall (true positive rate), false positive and
false negative rates, using fairlearn's MetricFrame on the rows the capacity-limited
lists selected. Each rate gets its ratio to a reference group (the largest) and a flag
when the ratio leaves [ratio_low, ratio_high]. Cells resting on fewer than ``min_cell``
persons are suppressed: the rate, its ratio and its flag are left empty.
"""

from __future__ import annotations

import warnings
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
# The counts each rate rests on (its numerator and denominator), for suppression: a rate
# is shown and judged only when both reach the minimum cell (a numerator of 0 is shown).
NUMERATOR = {
    "selection_rate": "selected",
    "precision": "true_positives",
    "recall": "true_positives",
    "false_positive_rate": "false_positives",
    "false_negative_rate": "false_negatives",
}
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


def with_intersections(
    rows: pl.DataFrame, attributes: Sequence[str], intersections: Sequence[Sequence[str]]
) -> tuple[pl.DataFrame, list[str]]:
    """Add one column per intersection (``gender × language``: groups like ``F × fi``)."""
    names = [a for a in attributes if a in rows.columns]
    for parts in intersections:
        if not all(p in rows.columns for p in parts):
            continue
        name = " × ".join(parts)
        rows = rows.with_columns(
            pl.concat_str(
                [pl.col(p).cast(pl.String).fill_null("not given") for p in parts], separator=" × "
            ).alias(name)
        )
        names.append(name)
    return rows, names


def audit(
    rows: pl.DataFrame,
    attributes: Sequence[str],
    *,
    min_cell: int,
    ratio_low: float,
    ratio_high: float,
    intersections: Sequence[Sequence[str]] = (),
    replicates: int = 500,
    seed: int = 0,
) -> pl.DataFrame:
    """One row per (attribute, group) with rates, ratios to the reference, their 95 %
    bootstrap intervals, the group's base rate, and flags.

    A rate is flagged only when the **whole** interval of its ratio lies outside
    [``ratio_low``, ``ratio_high``]: a gap the data cannot tell from chance is not a
    finding. A group with fewer than ``min_cell`` persons is listed with the status
    "too small to judge", never flagged and never called fair. ``rows`` needs ``label``
    (0/1), ``selected`` (bool) and the attribute columns; a missing attribute value is its
    own group, "not given".
    """
    rows, attributes = with_intersections(rows, attributes, intersections)
    rng = np.random.default_rng(seed)
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
            true_positives=(pl.col("len") * pl.col("y") * pl.col("p")).sum(),
            false_positives=(pl.col("len") * (1 - pl.col("y")) * pl.col("p")).sum(),
            false_negatives=(pl.col("len") * pl.col("y") * (1 - pl.col("p"))).sum(),
        )
        table = counts.join(by_group, on="group").with_columns(attribute=pl.lit(attribute))
        table = _ratios(table, min_cell, ratio_low, ratio_high)
        out.append(_intervals(table, cells, rng, replicates, min_cell, ratio_low, ratio_high))
    if not out:
        return pl.DataFrame()
    return pl.concat(out, how="diagonal").select(
        "attribute", "group", "status", "reference", "n", "selected", "positives", "base_rate",
        *[c for r in RATES for c in (r, f"{r}_low", f"{r}_high", f"{r}_ratio",
                                     f"{r}_ratio_low", f"{r}_ratio_high", f"{r}_flag")],
    ).sort("attribute", "group")  # fmt: skip


def _rates(y: np.ndarray, p: np.ndarray, w: np.ndarray, groups: np.ndarray, names) -> np.ndarray:
    """Rates per group for weighted cells; shape (len(names), len(RATES)), NaN where a
    rate has no denominator. ``w`` may be 2-D (replicates × cells)."""
    w = np.atleast_2d(w)
    out = np.full((w.shape[0], len(names), len(RATES)), np.nan)
    for g, name in enumerate(names):
        m = groups == name
        n = w[:, m].sum(1)
        tp = w[:, m & (y == 1) & (p == 1)].sum(1)
        fp = w[:, m & (y == 0) & (p == 1)].sum(1)
        pos = w[:, m & (y == 1)].sum(1)
        neg = n - pos
        sel = tp + fp
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, g] = np.stack([sel / n, tp / sel, tp / pos, fp / neg, (pos - tp) / pos], axis=1)
    return out


def _intervals(
    table: pl.DataFrame,
    cells: pl.DataFrame,
    rng: np.random.Generator,
    replicates: int,
    min_cell: int,
    low: float,
    high: float,
) -> pl.DataFrame:
    """Percentile bootstrap (persons resampled with replacement, as multinomial counts
    over the outcome × selection cells) for every rate and its ratio to the reference."""
    names = table["group"].to_list()
    y, p = cells["y"].to_numpy(), cells["p"].to_numpy()
    groups, counts = cells["group"].to_numpy(), cells["len"].to_numpy()
    total = int(counts.sum())
    draws = rng.multinomial(total, counts / total, size=replicates).astype(float)
    rates = _rates(y, p, draws, groups, names)  # replicates × groups × rates
    reference = table["reference"][0]
    ref = rates[:, names.index(reference)][:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = rates / ref
    with warnings.catch_warnings():  # a replicate where a rate has no denominator
        warnings.simplefilter("ignore", RuntimeWarning)
        bounds = {
            "low": np.nanquantile(rates, 0.025, axis=0),
            "high": np.nanquantile(rates, 0.975, axis=0),
            "ratio_low": np.nanquantile(ratios, 0.025, axis=0),
            "ratio_high": np.nanquantile(ratios, 0.975, axis=0),
        }
    n = table["n"]
    small = n.is_null() | (n < min_cell)
    columns = {}
    flags = {}
    for j, r in enumerate(RATES):
        for key, values in bounds.items():
            # A ratio's interval only where the ratio itself is shown (the reference's
            # rate may be suppressed while the group's is not).
            shown = table[f"{r}_ratio" if key.startswith("ratio") else r].is_not_null()
            bound = pl.Series(values[:, j], dtype=pl.Float64).fill_nan(None)
            columns[f"{r}_{key}"] = bound.zip_with(
                shown, pl.repeat(None, len(names), dtype=pl.Float64, eager=True)
            )
        lo, hi = columns[f"{r}_ratio_low"], columns[f"{r}_ratio_high"]
        outside = ((hi < low) | (lo > high)).fill_null(False) & lo.is_not_null() & hi.is_not_null()
        flags[f"{r}_flag"] = outside & ~small & (pl.Series(names) != reference)
    status = pl.Series(
        [
            "too small to judge" if s else ("reference" if g == reference else "judged")
            for g, s in zip(names, small.to_list(), strict=True)
        ]
    )
    # Shown only when positives and negatives both reach the minimum cell: with n beside
    # it, a base rate would otherwise give back a suppressed count.
    shown_base = (
        ~small
        & (table["positives_all"] >= min_cell)
        & ((table["n_all"] - table["positives_all"]) >= min_cell)
    )
    base = (table["positives_all"] / table["n_all"]).zip_with(
        shown_base, pl.repeat(None, len(names), dtype=pl.Float64, eager=True)
    )
    return table.with_columns(status=status, base_rate=base, **columns, **flags).drop(
        "positives_all", "n_all", "true_positives", "false_positives", "false_negatives"
    )


def _ratios(table: pl.DataFrame, min_cell: int, low: float, high: float) -> pl.DataFrame:
    table = table.with_columns(n_all=pl.col("n"), positives_all=pl.col("positives"))

    def enough(count: str) -> pl.Expr:
        return pl.col(count) >= min_cell

    suppressed = table.with_columns(
        [
            pl.when(enough(DENOMINATOR[r]) & (enough(NUMERATOR[r]) | (pl.col(NUMERATOR[r]) == 0)))
            .then(pl.col(r))
            .otherwise(None)
            .alias(r)
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


def worst_gap(table: pl.DataFrame, low: float = 0.8, high: float = 1.25) -> float:
    """How far (as a ratio) the flagged interval furthest from [low, high] lies outside
    it: 0 when nothing is flagged. The promotion gate refuses a model that widens it."""
    gaps = [0.0]
    for r in RATES:
        if table.is_empty() or f"{r}_flag" not in table.columns:
            continue
        flagged = table.filter(pl.col(f"{r}_flag"))
        for lo, hi in flagged.select(f"{r}_ratio_low", f"{r}_ratio_high").iter_rows():
            if lo is not None and hi is not None:
                gaps.append(max(low - hi, lo - high, 0.0))
    return float(max(gaps))


def flag_sentences(
    table: pl.DataFrame, limit: int = 12, low: float = 0.8, high: float = 1.25
) -> tuple[list[str], list[str]]:
    """The flags in plain words for the model card: a count per attribute, and the
    ``limit`` flags furthest outside the band, each with both groups' base rates (a gap
    the base rates share comes from the world, not only from the model)."""
    words = {
        "selection_rate": "is put on the lists",
        "precision": "is right when listed (precision)",
        "recall": "is reached among those who later register (recall)",
        "false_positive_rate": "is listed without later registering (false positives)",
        "false_negative_rate": "is missed among those who later register (false negatives)",
    }
    num = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    if table.is_empty():
        return [], []
    base = {(a, g): b for a, g, b in table.select("attribute", "group", "base_rate").iter_rows()}
    found = []
    for row in table.iter_rows(named=True):
        for r in RATES:
            if not row.get(f"{r}_flag"):
                continue
            lo, hi = row[f"{r}_ratio_low"], row[f"{r}_ratio_high"]
            gap = max(low - hi, lo - high, 0.0) if lo is not None and hi is not None else 0.0
            reference_base = base.get((row["attribute"], row["reference"]))
            found.append((gap, row["attribute"], (
                f"{row['attribute']} = {row['group']}: {words[r]} at {num(row[f'{r}_ratio'])} "
                f"times the rate of {row['reference']} (95 % interval {num(lo)}-{num(hi)}); "
                f"base rate {num(row['base_rate'])} against {num(reference_base)}."
            )))  # fmt: skip
    per_attribute: dict[str, int] = {}
    for _, attribute, _ in found:
        per_attribute[attribute] = per_attribute.get(attribute, 0) + 1
    counts = [f"{a}: {n}" for a, n in sorted(per_attribute.items())]
    widest = [text for _, _, text in sorted(found, key=lambda f: -f[0])[:limit]]
    return counts, widest
