"""Training and honest evaluation over rolling temporal folds.

Each fold fits the scorecard (and the gradient-boosted challenger) on its training as-of
dates and scores its test date, as if it had been deployed then. Metrics are reported per
fold and pooled over all test rows; on a synthetic city the generator's true risks give
the oracle AUC, the best any model could reach. The production model is then fitted on
the latest labelled dates. Nothing here touches MLflow or files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from features.folds import Fold
from models import drift, fairness, simplicity
from models.bundle import RiskModel, medians
from models.metrics import at_capacity, per_team_at_capacity, ranking_metrics, select_at_capacity
from models.scorecard import ScorecardClassifier
from models.spec import ChallengerSpec, ModelSpec, ScorecardSpec


def make_scorecard(spec: ScorecardSpec, seed: int) -> ScorecardClassifier:
    return ScorecardClassifier(
        binning=spec.binning,
        n_bins=spec.n_bins,
        min_bin_share=spec.min_bin_share,
        max_features=spec.max_features,
        round_edges=spec.round_edges,
        monotonic=dict(spec.monotonic) or None
        if isinstance(spec.monotonic, dict)
        else spec.monotonic,
        C=spec.C,
        tol=spec.tol,
        max_points=spec.max_points,
        pdo=spec.pdo,
        calibration=spec.calibration,
        cv=spec.cv,
        random_state=seed,
        n_jobs=spec.n_jobs,
    )


def make_challenger(spec: ChallengerSpec, seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=spec.max_iter,
        learning_rate=spec.learning_rate,
        max_leaf_nodes=spec.max_leaf_nodes,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        random_state=seed,
    )


def subsample(rows: pl.DataFrame, limit: int, seed: int) -> pl.DataFrame:
    """At most ``limit`` rows, stratified by label, deterministic for a seed."""
    if rows.height <= limit:
        return rows
    share = limit / rows.height
    return (
        rows.with_row_index("_i")
        .filter(
            pl.int_range(pl.len()).shuffle(seed).over("label") < (pl.len() * share).over("label")
        )
        .sort("_i")
        .drop("_i")
    )


def fit_risk_model(
    rows: pl.DataFrame, features: Sequence[str], spec: ModelSpec, info: dict | None = None
) -> RiskModel:
    """Fit the production scorecard on labelled rows and package it for scoring."""
    rows = subsample(rows, spec.scorecard.max_train_rows, spec.seed)
    estimator = make_scorecard(spec.scorecard, spec.seed)
    estimator.fit(rows.select(features), rows["label"].to_numpy())
    feature_list = [str(f) for f in estimator.selected_features_]
    if len(feature_list) < len(features):
        # The deployed model reads only the features it selected: refit on them alone
        # (same bins and points; the selection is recorded in the model's info).
        path = {
            "selection_path": list(estimator.selection_path_),
            "selection_cv_log_loss": list(estimator.selection_cv_log_loss_),
        }
        estimator = make_scorecard(spec.scorecard, spec.seed).set_params(max_features=None)
        estimator.fit(rows.select(feature_list), rows["label"].to_numpy())
        info = {**path, **(info or {})}
    features = feature_list
    points = estimator.score_points(rows.select(features))
    score_profile = drift.reference_profile(
        pl.DataFrame({"points": points.astype(float)}), ["points"], n_bins=10
    )
    return RiskModel(
        estimator=estimator,
        features=feature_list,
        medians=medians(rows, feature_list),
        profile=drift.reference_profile(rows, varying_within_dates(rows, feature_list)),
        score_profile=score_profile,
        info={"train_rows": rows.height, "positives": int(rows["label"].sum()), **(info or {})},
    )


def varying_within_dates(rows: pl.DataFrame, features: Sequence[str]) -> list[str]:
    """Features that differ between persons on some date. A country-wide figure is the same
    for everyone on a date and moves with the calendar, so its PSI says nothing about drift."""
    if "as_of" not in rows.columns:
        return list(features)
    spread = (
        rows.group_by("as_of")
        .agg(pl.col(list(features)).n_unique())
        .select(pl.all().exclude("as_of").max())
    )
    return [f for f in features if spread[f][0] > 1]


@dataclass
class FoldResult:
    fold: Fold
    train_rows: int
    test_rows: int
    scorecard: dict[str, float]
    challenger: dict[str, float] = field(default_factory=dict)


@dataclass
class Evaluation:
    """Per-fold and pooled results; ``predictions`` holds the pooled test rows."""

    folds: list[FoldResult]
    pooled: dict[str, float]
    pooled_challenger: dict[str, float]
    oracle_auc: float | None
    predictions: pl.DataFrame
    fairness: pl.DataFrame
    per_team: pl.DataFrame
    # The same audit of the gradient-boosted challenger's lists on the same rows: the
    # documented baseline the first model's fairness is judged against.
    challenger_fairness: pl.DataFrame | None = None
    # The fairness band the audit flagged against (fairness.ratio_low, ratio_high).
    band: tuple[float, float] = (0.8, 1.25)
    # What each simplification of the scorecard costs (models.simplicity), when measured.
    simplicity: pl.DataFrame | None = None

    def metrics(self) -> dict[str, float]:
        """Flat metric names for MLflow."""
        out = {f"pooled_{k}": v for k, v in self.pooled.items()}
        out |= {f"challenger_pooled_{k}": v for k, v in self.pooled_challenger.items()}
        if self.oracle_auc is not None:
            out["oracle_roc_auc"] = self.oracle_auc
            out["gap_to_oracle_roc_auc"] = self.oracle_auc - self.pooled["roc_auc"]
        if self.pooled_challenger:
            out["price_of_transparency_roc_auc"] = (
                self.pooled_challenger["roc_auc"] - self.pooled["roc_auc"]
            )
        for result in self.folds:
            n = result.fold.number
            out |= {f"fold{n}_{k}": v for k, v in result.scorecard.items()}
            out |= {f"fold{n}_challenger_{k}": v for k, v in result.challenger.items()}
        out["fairness_flags"] = float(fairness.flag_count(self.fairness))
        out["fairness_worst_gap"] = fairness.worst_gap(self.fairness, *self.band)
        if self.challenger_fairness is not None:
            out["challenger_fairness_flags"] = float(fairness.flag_count(self.challenger_fairness))
            out["challenger_fairness_worst_gap"] = fairness.worst_gap(
                self.challenger_fairness, *self.band
            )
        if self.simplicity is not None:
            out |= simplicity.metrics(self.simplicity)
        return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


def _metrics(rows: pl.DataFrame, score: str, capacity: Callable[[str], int]) -> dict[str, float]:
    y = rows["label"].to_numpy()
    out = ranking_metrics(y, rows[score].to_numpy())
    contactable = rows.filter(pl.col("can_contact"))
    out |= at_capacity(select_at_capacity(contactable, score, capacity))
    return out


def _fold(
    fold: Fold,
    train: pl.DataFrame,
    test: pl.DataFrame,
    features: Sequence[str],
    spec: ModelSpec,
    capacity: Callable[[str], int],
) -> tuple[FoldResult, pl.DataFrame]:
    """Fit the scorecard (and the challenger) on a fold's training rows; score its test
    rows as if deployed then."""
    train = subsample(train, spec.scorecard.max_train_rows, spec.seed)
    model = make_scorecard(spec.scorecard, spec.seed).fit(
        train.select(features), train["label"].to_numpy()
    )
    test = test.with_columns(
        probability=pl.Series(model.predict_proba(test.select(features))[:, 1])
    )
    result = FoldResult(fold, train.height, test.height, _metrics(test, "probability", capacity))
    if spec.challenger.enabled:
        challenger = make_challenger(spec.challenger, spec.seed).fit(
            train.select(features).to_numpy(), train["label"].to_numpy()
        )
        test = test.with_columns(
            challenger=pl.Series(challenger.predict_proba(test.select(features).to_numpy())[:, 1])
        )
        result.challenger = _metrics(test, "challenger", capacity)
    return result, test


def evaluate(
    data: pl.DataFrame,
    folds: Sequence[Fold],
    features: Sequence[str],
    spec: ModelSpec,
    capacity: Callable[[str], int],
    *,
    min_cell: int,
    truth: pl.DataFrame | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Evaluation:
    """Fit and test on every fold; pool the test rows.

    ``data`` has person_id, as_of, label, team, can_contact, the features and the audit
    attributes; ``truth`` (synthetic cities only) has person_id, as_of, truth.
    """
    results, pooled_rows = [], []
    for fold in folds:
        train = data.filter(pl.col("as_of").is_in(list(fold.train)))
        test = data.filter(pl.col("as_of") == fold.test)
        if train.is_empty() or test.is_empty() or train["label"].n_unique() < 2:
            continue
        progress(f"fold {fold.number}: {train.height} training rows, test {fold.test}")
        result, test = _fold(fold, train, test, features, spec, capacity)
        results.append(result)
        pooled_rows.append(test.drop(features))
    if not pooled_rows:
        raise ValueError("no fold had both training and test rows with both outcomes")
    pooled = pl.concat(pooled_rows, how="diagonal")
    pooled_metrics = _metrics(pooled, "probability", capacity)
    pooled_challenger = (
        _metrics(pooled, "challenger", capacity) if "challenger" in pooled.columns else {}
    )
    oracle = None
    if truth is not None:
        with_truth = pooled.join(truth, on=["person_id", "as_of"], how="inner").drop_nulls("truth")
        if with_truth.height and with_truth["label"].n_unique() == 2:
            oracle = float(roc_auc_score(with_truth["label"], with_truth["truth"]))
    selected = select_at_capacity(pooled.filter(pl.col("can_contact")), "probability", capacity)

    def audit_of(rows: pl.DataFrame) -> pl.DataFrame:
        return fairness.audit(
            rows,
            spec.fairness.attributes,
            min_cell=min_cell,
            ratio_low=spec.fairness.ratio_low,
            ratio_high=spec.fairness.ratio_high,
            intersections=spec.fairness.intersections,
            replicates=spec.fairness.replicates,
            seed=spec.seed,
        )

    audit = audit_of(selected)
    challenger_audit = None
    if "challenger" in pooled.columns:
        challenger_audit = audit_of(
            select_at_capacity(pooled.filter(pl.col("can_contact")), "challenger", capacity)
        )
    return Evaluation(
        folds=results,
        pooled=pooled_metrics,
        pooled_challenger=pooled_challenger,
        oracle_auc=oracle,
        predictions=selected,
        fairness=audit,
        per_team=per_team_at_capacity(selected, min_cell),
        challenger_fairness=challenger_audit,
        band=(spec.fairness.ratio_low, spec.fairness.ratio_high),
    )


def price_ladder(
    data: pl.DataFrame,
    folds: Sequence[Fold],
    features: Sequence[str],
    spec: ModelSpec,
    capacity: Callable[[str], int],
) -> pl.DataFrame | None:
    """The price of each simplification (models.simplicity) on the latest fold, its
    training rows subsampled to ``spec.price_max_rows``; None when switched off."""
    fold = simplicity.last_fold(folds)
    if not spec.price_of_simplicity or fold is None:
        return None
    train = subsample(
        data.filter(pl.col("as_of").is_in(list(fold.train))), spec.price_max_rows, spec.seed
    )
    test = data.filter(pl.col("as_of") == fold.test)
    if train["label"].n_unique() < 2 or test["label"].n_unique() < 2:
        return None
    return simplicity.price_of_simplicity(train, test, features, spec, capacity, make_scorecard)


def truth_long(truth_wide: pl.DataFrame, dates: Sequence[date]) -> pl.DataFrame:
    """The generator's true risks as (person_id, as_of, truth) for the given dates."""
    columns = [d.isoformat() for d in dates if d.isoformat() in truth_wide.columns]
    return (
        truth_wide.select("person_id", *columns)
        .unpivot(index="person_id", variable_name="as_of", value_name="truth")
        .with_columns(pl.col("as_of").str.to_date())
    )
