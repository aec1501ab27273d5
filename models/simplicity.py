"""The price of each simplification: what readability costs, step by step, on one fold.

The scorecard is made readable by five simplifications (few bins, round cut points,
monotone points, few features, a 0-100 scale). Each is a choice an analyst must be able to
defend, so each one's cost is measured rather than asserted: starting from a scorecard
with none of them, the simplifications are switched on one at a time, in the order below,
and every rung is fitted on the same training rows and tested on the same later date
(the last temporal fold). The last rung is the production configuration. The table
goes into the training report and the metrics into MLflow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from features.folds import Fold
from models.metrics import at_capacity, ranking_metrics, select_at_capacity
from models.spec import ModelSpec, ScorecardSpec


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: a short name, what it changes, the parameters it sets."""

    name: str
    change: str
    params: dict


def ladder(spec: ScorecardSpec) -> list[Rung]:
    """The rungs from no simplification to ``spec`` (each keeps the earlier ones)."""
    return [
        Rung(
            "none",
            "every feature, 10 quantile bins, cut points where the data fall, points free "
            "in direction, log-odds scale",
            {
                "binning": "quantile",
                "n_bins": 10,
                "round_edges": False,
                "monotonic": None,
                "max_features": None,
                "max_points": None,
            },
        ),
        Rung(
            "few bins",
            f"at most {spec.n_bins} bins per feature, cut by a shallow tree",
            {"binning": spec.binning, "n_bins": spec.n_bins},
        ),
        Rung(
            "round cut points",
            "cut points a person would write",
            {"round_edges": spec.round_edges},
        ),
        Rung(
            "monotone points",
            "points rise or fall steadily over ordered bins",
            {"monotonic": spec.monotonic},
        ),
        Rung(
            "few features",
            f"at most {spec.max_features} features (forward selection)",
            {"max_features": spec.max_features},
        ),
        Rung(
            "0-100 points",
            f"feature points scaled to add up to at most {spec.max_points}",
            {"max_points": spec.max_points},
        ),
    ]


def price_of_simplicity(
    train: pl.DataFrame,
    test: pl.DataFrame,
    features: Sequence[str],
    spec: ModelSpec,
    capacity: Callable[[str], int],
    make: Callable[[ScorecardSpec, int], object],
) -> pl.DataFrame:
    """Fit every rung of :func:`ladder` on ``train`` and test it on ``test``.

    ``make`` builds a scorecard from a spec and a seed (models.training.make_scorecard).
    One row per rung: its name and change, features and bins used, the highest total of
    feature points, ROC AUC, precision at capacity, and the AUC given up by this step.
    """
    y_train = train["label"].to_numpy()
    rows, params, previous = [], {}, None
    for rung in ladder(spec.scorecard):
        params |= rung.params
        estimator = make(spec.scorecard.model_copy(update=params), spec.seed)
        estimator.fit(train.select(features), y_train)
        scored = test.with_columns(
            probability=pl.Series(estimator.predict_proba(test.select(features))[:, 1])
        )
        auc = ranking_metrics(scored["label"].to_numpy(), scored["probability"].to_numpy())
        listed = at_capacity(
            select_at_capacity(scored.filter(pl.col("can_contact")), "probability", capacity)
        )
        table = estimator.points_table()
        top = table.group_by("feature").agg(pl.col("points").max())["points"].sum()
        row = {
            "step": rung.name,
            "change": rung.change,
            "features": int(table["feature"].n_unique()),
            "bins": int(table.filter(pl.col("kind") != "missing").height),
            "max_points": int(top),
            "roc_auc": float(auc["roc_auc"]),
            "precision_at_capacity": float(listed.get("precision_at_capacity", np.nan)),
            "auc_given_up": None if previous is None else previous - float(auc["roc_auc"]),
        }
        previous = row["roc_auc"]
        rows.append(row)
    return pl.DataFrame(
        rows,
        schema={"step": pl.String, "change": pl.String, "features": pl.Int64,
                "bins": pl.Int64, "max_points": pl.Int64, "roc_auc": pl.Float64,
                "precision_at_capacity": pl.Float64, "auc_given_up": pl.Float64},
    )  # fmt: skip


def last_fold(folds: Sequence[Fold]) -> Fold | None:
    """The fold the ladder is measured on: the latest test date."""
    return max(folds, key=lambda f: f.test, default=None)


def metrics(table: pl.DataFrame) -> dict[str, float]:
    """Flat MLflow metric names: ``simplicity_<n>_<step>_roc_auc`` and the total price."""
    out: dict[str, float] = {}
    for n, row in enumerate(table.iter_rows(named=True)):
        slug = row["step"].replace(" ", "_").replace("-", "_")
        out[f"simplicity_{n}_{slug}_roc_auc"] = row["roc_auc"]
    if table.height > 1:
        out["price_of_simplicity_roc_auc"] = table["roc_auc"][0] - table["roc_auc"][-1]
    return out
