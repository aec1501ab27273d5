"""How well a model ranks, measured the way the service uses it.

Besides ROC AUC, average precision and the Brier score (scikit-learn), the numbers that
matter to a team are **at capacity**: if each team contacts its top k persons on each
as-of date, what share of those lists turns out right (precision) and what share of all
future registrations do the lists reach (recall). Ties are broken by a stable keyed hash
of (person, date), never by input order, so the same data always gives the same lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

import numpy as np
import polars as pl


def tie_break(person_ids: pl.Series, as_of: pl.Series | None = None) -> pl.Series:
    """A stable pseudo-random rank key per (person, date): equal scores order by it."""
    dates = as_of.cast(pl.String).to_list() if as_of is not None else [""] * len(person_ids)
    keys = [
        int.from_bytes(hashlib.blake2b(f"{p}|{d}".encode(), digest_size=8).digest(), "big")
        for p, d in zip(person_ids.to_list(), dates, strict=True)
    ]
    return pl.Series("tie_break", keys, dtype=pl.UInt64)


def rank_within(frame: pl.DataFrame, score: str, by: list[str]) -> pl.DataFrame:
    """Add ``rank`` (1 = highest score) within each group of ``by``; ties by ``tie_break``."""
    if "tie_break" not in frame.columns:
        frame = frame.with_columns(tie_break(frame["person_id"], frame["as_of"]))
    return frame.sort(
        [*by, score, "tie_break"], descending=[False] * len(by) + [True, False]
    ).with_columns(rank=pl.int_range(1, pl.len() + 1).over(by))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Mean |observed rate - predicted probability| over quantile bins, weighted by size.

    The bins are scikit-learn's ``calibration_curve(strategy="quantile")``, the same the
    report's calibration plot draws; only the bin sizes, which it does not return, are
    counted here on its edges.
    """
    from sklearn.calibration import calibration_curve

    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if y.size == 0:
        return float("nan")
    observed, predicted = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
    edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    sizes = np.bincount(np.searchsorted(edges[1:-1], p), minlength=n_bins)
    sizes = sizes[sizes > 0]
    return float(np.sum(sizes * np.abs(observed - predicted)) / y.size)


def ranking_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ROC AUC, average precision, Brier score and calibration error."""
    # Imported here: the ranking helpers above serve the lists and `ennakko erase`, which
    # must start in a second, and scikit-learn takes two to import.
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y = np.asarray(y)
    if y.size == 0 or y.min() == y.max():
        return {"roc_auc": float("nan"), "average_precision": float("nan"),
                "brier": float("nan"), "calibration_error": float("nan")}  # fmt: skip
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "average_precision": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "calibration_error": expected_calibration_error(y, p),
    }


def select_at_capacity(
    frame: pl.DataFrame, score: str, capacity: Callable[[str], int]
) -> pl.DataFrame:
    """Mark ``selected`` rows: each team's top ``capacity(team)`` on each as-of date."""
    ranked = rank_within(frame, score, ["as_of", "team"])
    caps = pl.DataFrame(
        {"team": ranked["team"].unique().to_list()}, schema={"team": pl.String}
    ).with_columns(cap=pl.col("team").map_elements(capacity, return_dtype=pl.Int64))
    return (
        ranked.join(caps, on="team", how="left")
        .with_columns(selected=pl.col("rank") <= pl.col("cap"))
        .drop("cap")
    )


def at_capacity(selected: pl.DataFrame) -> dict[str, float]:
    """Precision and recall of the selected rows against ``label``."""
    listed = selected.filter(pl.col("selected"))
    hits = int(listed["label"].sum()) if listed.height else 0
    positives = int(selected["label"].sum())
    return {
        "precision_at_capacity": hits / listed.height if listed.height else float("nan"),
        "recall_at_capacity": hits / positives if positives else float("nan"),
        "listed": float(listed.height),
    }


def per_team_at_capacity(selected: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """Precision and recall at capacity per team. Counts under ``min_cell`` and the rates
    resting on them are suppressed (null), as statistical offices do."""

    def shown(name: str) -> pl.Expr:
        return pl.when(pl.col(name) >= min_cell).then(pl.col(name))

    return (
        selected.group_by("team")
        .agg(
            listed=pl.col("selected").sum(),
            hits=(pl.col("selected") & (pl.col("label") == 1)).sum(),
            positives=(pl.col("label") == 1).sum(),
        )
        .with_columns(
            precision=pl.when(pl.col("listed") >= min_cell).then(pl.col("hits") / pl.col("listed")),
            recall=pl.when(pl.col("positives") >= min_cell).then(
                pl.col("hits") / pl.col("positives")
            ),
        )
        .with_columns(shown("listed"), shown("hits"), shown("positives"))
        .sort("team")
    )


def summarise(metrics: list[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each metric over folds (NaN-aware)."""
    keys = metrics[0].keys() if metrics else []
    return {k: float(np.nanmean([m[k] for m in metrics])) for k in keys}
