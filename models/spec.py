"""Typed parameters of the learning layer, built once by the flows from the configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from features.spec import Spec


class ScorecardSpec(Spec):
    """The transparent model (see models.scorecard.ScorecardClassifier)."""

    n_bins: int = Field(5, ge=2, le=50)
    binning: Literal["quantile", "tree"] = "tree"
    max_features: int | None = Field(12, ge=1, description="Most features in the scorecard.")
    round_edges: bool = Field(True, description="Cut points a person would write.")
    max_points: int | None = Field(100, ge=1, description="Highest total of feature points.")
    C: float = Field(0.1, gt=0)
    tol: float = Field(1e-4, gt=0, description="Stopping tolerance of the logistic solver.")
    pdo: float = Field(20.0, gt=0, description="Points that double the odds (max_points null).")
    min_bin_share: float = Field(0.02, ge=0, lt=0.5)
    cv: int = Field(2, ge=2, description="Internal folds for out-of-fold calibration.")
    n_jobs: int = Field(2, ge=1, description="Threads for binning and the calibration folds.")
    calibration: Literal["auto", "isotonic", "platt"] = "auto"
    monotonic: Literal["auto"] | dict[str, Literal[-1, 1, "auto"]] | None = "auto"
    max_train_rows: int = Field(
        600_000, ge=1000, description="Stratified subsample above this many training rows."
    )


class ChallengerSpec(Spec):
    enabled: bool = True
    max_iter: int = Field(150, ge=10)
    learning_rate: float = Field(0.1, gt=0)
    max_leaf_nodes: int = Field(31, ge=2)


class PromotionSpec(Spec):
    """When a newly trained model may replace the champion."""

    precision_tolerance: float = Field(0.02, ge=0, le=1)
    max_calibration_error: float = Field(0.05, ge=0, le=1)
    # How much further outside the fairness band (ratio interval, as a ratio) the worst
    # flag may reach than the champion's before the candidate is refused.
    fairness_tolerance: float = Field(0.05, ge=0)
    # The first model has no champion: group by group and rate of each main attribute,
    # its interval may reach at most this share further outside the band (on the log
    # scale: 0.25 = a quarter further) than the documented baseline's (docs/fairness.md).
    first_model_fairness_tolerance: float = Field(0.25, ge=0)


class FairnessSpec(Spec):
    attributes: tuple[str, ...] = ("gender", "language", "area_group", "age_band")
    intersections: tuple[tuple[str, ...], ...] = (
        ("gender", "language"),
        ("age_band", "area_group"),
    )
    ratio_low: float = 0.8
    ratio_high: float = 1.25
    replicates: int = Field(500, ge=50, description="Bootstrap replicates per interval.")


class ModelSpec(Spec):
    registered_name: str = "ennakko-risk"
    scorecard: ScorecardSpec = ScorecardSpec()
    challenger: ChallengerSpec = ChallengerSpec()
    promotion: PromotionSpec = PromotionSpec()
    fairness: FairnessSpec = FairnessSpec()
    seed: int = 20251
    price_of_simplicity: bool = Field(
        True, description="Measure what each simplification of the scorecard costs."
    )
    price_max_rows: int = Field(
        200_000, ge=1000, description="Training rows (subsample) for the price ladder."
    )
