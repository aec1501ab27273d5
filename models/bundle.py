"""The deployable model: the fitted scorecard plus what scoring and lists need beside it.

Feature names, training medians (for reason wording) and the drift profile are aggregate
numbers, never personal data, so they travel with the model in MLflow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from features.build import FeatureMatrix
from models.scorecard import ScorecardClassifier


@dataclass
class RiskModel:
    estimator: ScorecardClassifier
    features: list[str]
    medians: dict[str, float]
    profile: dict[str, Any]
    score_profile: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)
    version: str | None = None

    def meta(self) -> dict[str, Any]:
        """Everything but the estimator, JSON-ready."""
        out = asdict(self)
        out.pop("estimator")
        return out


def score(model: RiskModel, matrix: FeatureMatrix) -> pl.DataFrame:
    """Risk of every row: person_id, as_of, points (integer score) and probability."""
    X = matrix.frame.select(model.features)
    points = model.estimator.score_points(X)
    probability = model.estimator.predict_proba(X)[:, 1]
    return matrix.frame.select("person_id", "as_of").with_columns(
        points=pl.Series(points.astype(np.int64)),
        probability=pl.Series(probability.astype(np.float64)),
    )


def medians(frame: pl.DataFrame, features: list[str]) -> dict[str, float]:
    return {name: float(frame[name].cast(pl.Float64).median() or 0.0) for name in features}
