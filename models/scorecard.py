"""A transparent points scorecard: binned features, integer points, calibrated risk."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, validate_data

from models._scorecard_binning import FeatureBins, fit_bins, monotone_direction
from models._scorecard_calibration import anchor_base, choose_calibration
from models._scorecard_explain import points_frame, top_reasons
from models._scorecard_fit import (
    Design,
    Solver,
    cross_fit_scores,
    fit_logistic,
    fit_monotone,
    integer_points,
    points_scale,
    total_scores,
)
from models._scorecard_input import Column, as_kind, check_target, check_weights
from models._scorecard_input import to_columns as _to_columns
from models._scorecard_params import check_params, cv_splits, requested_directions
from models._scorecard_select import forward_select, subset


class ScorecardClassifier(ClassifierMixin, BaseEstimator):
    """Binary points scorecard: bins, integer points per bin, calibrated risk per score.

    Built to fit on one page: at most ``max_features`` features (forward selection on
    cross-validated log-loss), at most ``n_bins`` bins each plus ``missing``, cut points a
    person would write, monotone points over ordered bins, and feature points that add up
    to at most ``max_points`` (0 to about 100).

    Each feature is cut into bins; an L2-regularised logistic regression on the one-hot
    bins gives every bin ``round(scale * coefficient)`` points, shifted so that each
    feature's lowest-risk bin has 0 points. A person's score is ``base_points_ + sum of
    their bins' points``, an integer on a log-odds scale. The probability of the positive
    class (``classes_[1]``) is a function of the score alone: an isotonic or Platt map
    fitted on out-of-fold scores, tabulated in :meth:`calibration_table`.

    Parameters
    ----------
    binning : {"quantile", "tree"}, default="quantile"
        How numeric features are cut: at weighted quantiles (ties collapsed) or at the
        splits of a shallow decision tree grown on the feature alone.
    n_bins : int, default=5
        Maximum number of non-missing bins of a feature (a categorical feature keeps at
        most ``n_bins - 1`` categories, the largest, beside ``other``).
    min_bin_share : float, default=0.05
        Categories with a smaller share of the training weight are pooled into
        ``other``; with ``binning="tree"`` also the smallest share of a leaf.
    max_features : int or None, default=12
        Most features in the scorecard: forward selection (score test to rank the next
        feature, cross-validated log-loss to choose how many of the path to keep). None
        keeps every feature.
    round_edges : bool, default=True
        Round cut points to values a person would write: two significant digits, whole
        numbers for whole-number features (counts, days), no finer than a twentieth of
        the feature's spread.
    monotonic : "auto" or dict of {str or int: {1, -1, "auto"}}, default="auto"
        Per numeric feature (by name, or by position): points non-decreasing (1) or
        non-increasing (-1) over its ordered bins (``missing`` excluded), or "auto": the
        direction the unconstrained fit shows, unless the data refuse any direction (a
        clear U or hump; see ``monotonic_``). "auto" alone means "auto" for every numeric
        feature. Enforced by merging adjacent bins that violate it and refitting until
        none does. None: no constraints.
    C : float, default=1.0
        Inverse L2 regularisation strength of the logistic regression.
    max_points : int or None, default=100
        The highest total of feature points: the points scale is chosen so a person's
        feature points add up to between 0 and ``max_points``. None: use ``pdo``.
    pdo : float, default=20.0
        Points to double the odds: the scale of the points when ``max_points`` is None.
    calibration : {"auto", "isotonic", "platt"}, default="auto"
        Map from score to probability; "auto" takes the one with the lower
        cross-validated Brier score on the out-of-fold scores.
    cv : int, cross-validation generator or iterable, default=3
        Folds of the internal cross-fitting that produces out-of-fold scores for the
        calibration. An int gives shuffled stratified folds (fewer when a class has
        fewer rows; with under 2 rows in a class the in-sample scores are used).
    tol : float, default=1e-5
        Tolerance of the logistic regression solver (lbfgs): the largest gradient
        component left, on the mean log-loss. 1e-5 puts the points within a few
        hundredths of a point of the exact optimum on well-filled bins.
    max_iter : int, default=1000
        Maximum number of solver iterations.
    random_state : int, RandomState instance or None, default=0
        Seeds the fold shuffling and the tree binning; the default makes repeated fits
        identical.
    n_jobs : int, default=None
        Threads for the per-feature binning and the cross-fitting folds (None: 1,
        -1: all cores). Results do not depend on it.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the event that points add risk to.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.
    selected_features_ : ndarray of str
        Names of the features in the scorecard (all of them when ``max_features`` is
        None), in input order; the other columns of X are read but never used.
    selection_path_ : list of str
        Features in the order forward selection added them (empty without selection).
    selection_cv_log_loss_ : list of float
        Cross-validated log-loss after each step of ``selection_path_``.
    monotonic_ : dict of {str: int}
        Direction enforced per constrained feature: 1, -1, or 0 where "auto" found that
        the data refuse a direction (the feature is left unconstrained).
    points_scale_ : float
        Points per unit of log-odds.
    bins_ : list of FeatureBins
        The fitted bins of each feature in the scorecard.
    points_ : list of ndarray of int64
        Points of each feature's bins, in the order of :meth:`points_table`.
    base_points_ : int
        Points everyone starts from. Chosen so that a score above 0 means a calibrated
        probability above 0.5, i.e. ``predict`` gives ``classes_[1]`` exactly when
        ``decision_function > 0`` (when no reachable score crosses 0.5, the scores are
        shifted the least that keeps this true).
    calibration_method_ : str
        "isotonic" or "platt".
    calibration_brier_ : dict
        Cross-validated Brier score of each candidate map (when ``calibration="auto"``).
    calibration_proba_ : ndarray of shape (n_scores,)
        Probability of ``classes_[1]`` for the scores ``base_points_``,
        ``base_points_ + 1``, ... up to the highest reachable score.
    bin_count_, bin_event_rate_ : ndarray
        Training rows and weighted event rate of every bin, in points-table order.
    n_iter_ : int
        Solver iterations of the final points model, summed over the monotone refits.

    Notes
    -----
    *Columns.* Numeric dtypes (and object columns holding only numbers) are numeric;
    strings, categoricals and other objects are categorical, compared by their text. A
    plain list mixing numbers and strings becomes all strings (numpy's rule): pass a
    DataFrame or an object array to keep numbers numeric.

    *Bins.* Intervals are ``[lower, upper)``; quantile cut points are training values
    (rounded with ``round_edges``). Missing values (NaN, None, null) always have their
    own ``missing`` bin. Categories rarer than ``min_bin_share``, and categories never
    seen in training, fall in ``other``. A bin without training rows (``missing`` or
    ``other`` never seen) gets 0 points: nothing was learnt there, so it adds no risk.

    *Monotonic constraints.* After each fit, the pool-adjacent-violators algorithm
    (``IsotonicRegression``, weighted by bin size) is run on a violating feature's bin
    coefficients; the runs it pools become single bins and the model is refitted. Each
    round removes bins, so the loop ends; the final points satisfy every constraint.

    *Calibration.* Out-of-fold scores come from refitting the coefficients in ``cv``
    folds (the bins are those learned on all rows). Isotonic and Platt maps are fitted
    on them and, with "auto", compared by Brier score fold by fold; the winner, refitted
    on all out-of-fold scores, is tabulated for every reachable score, so
    ``predict_proba`` is a table look-up of the integer score.

    Examples
    --------
    >>> import polars as pl
    >>> from models import ScorecardClassifier
    >>> X = pl.DataFrame({"absences": [0, 1, 2, 3, 4, 5] * 10, "team": list("aabbab") * 10})
    >>> y = [0, 0, 0, 1, 1, 1] * 10
    >>> model = ScorecardClassifier(n_bins=3).fit(X, y)
    >>> model.predict(X.head(6)).tolist()
    [0, 0, 0, 1, 1, 1]
    >>> model.points_table().columns
    ['feature', 'bin', 'kind', 'lower', 'upper', 'points', 'count', 'event_rate']
    >>> row = model.explain(X.head(1)).row(0, named=True)
    >>> row["base_points"] + row["points_absences"] + row["points_team"] == row["score"]
    True
    """

    def __init__(
        self,
        *,
        binning: str = "quantile",
        n_bins: int = 5,
        min_bin_share: float = 0.05,
        max_features: int | None = 12,
        round_edges: bool = True,
        monotonic: str | dict[str | int, int | str] | None = "auto",
        C: float = 1.0,
        max_points: int | None = 100,
        pdo: float = 20.0,
        calibration: str = "auto",
        cv: Any = 3,
        tol: float = 1e-5,
        max_iter: int = 1000,
        random_state: Any = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.binning = binning
        self.n_bins = n_bins
        self.min_bin_share = min_bin_share
        self.max_features = max_features
        self.round_edges = round_edges
        self.monotonic = monotonic
        self.C = C
        self.max_points = max_points
        self.pdo = pdo
        self.calibration = calibration
        self.cv = cv
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ScorecardClassifier:
        """Fit the bins, the points and the calibration.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or polars.DataFrame of shape (n_samples, n_features)
            Numeric and categorical (string) features; missing values allowed.
        y : array-like of shape (n_samples,)
            Two class labels of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; an integer weight is the same as repeating the row.

        Returns
        -------
        self : ScorecardClassifier
            The fitted scorecard.
        """
        check_params(self)
        columns = _to_columns(X, self)
        validate_data(self, X, reset=True, skip_check_array=True)
        n_samples = columns[0].values.shape[0]
        self.classes_, y01 = check_target(y, n_samples, self)
        weights = check_weights(sample_weight, n_samples)
        if np.unique(y01[weights > 0]).shape[0] < 2:
            raise ValueError(
                "Only one class is left after removing the rows with zero sample_weight; "
                "the scorecard needs 2 classes."
            )
        names = self._names()
        requested = requested_directions(self.monotonic, names, columns)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        solver = Solver(self.C, self.tol, self.max_iter, self.pdo / math.log(2.0))
        bins = self._fit_bins(names, columns, y01, weights, seed)
        design = Design.from_codes(bins, self._encode(bins, columns))
        splits = cv_splits(self.cv, y01, seed)
        design, kept = self._select(design, names, y01, weights, solver, splits)

        start = fit_logistic(design.matrix, y01, weights, solver)
        directions = self._resolve_directions(design, kept, requested, start[0], weights)
        design, coef, intercept, self.n_iter_ = fit_monotone(
            design, y01, weights, solver, {j: d for j, d in directions.items() if d}, start
        )
        observed = design.column_weights(weights) > 0
        if self.max_points is not None:
            scale = points_scale(design, coef, intercept, observed, int(self.max_points))
            solver = replace(solver, scale=scale)
        self.points_scale_ = float(solver.scale)
        points, raw_base = integer_points(design, coef, intercept, observed, solver.scale)

        if splits is None:
            oof, folds = design.scores(points, raw_base), np.zeros(n_samples, dtype=np.int64)
        else:
            oof, folds = cross_fit_scores(
                design, y01, weights, solver, splits, (coef, intercept), self.n_jobs
            )
        used = folds >= 0
        self.calibration_method_, score_map, self.calibration_brier_ = choose_calibration(
            oof[used], y01[used], weights[used], folds[used], self.calibration
        )
        self._store(design, points, raw_base, score_map, y01, weights)
        return self

    def score_points(self, X: Any) -> np.ndarray:
        """Integer score (base points plus every feature's points) of each row."""
        check_is_fitted(self)
        codes = self._codes(X)
        return total_scores(codes, self._offsets, self._points_flat, self.base_points_)

    def decision_function(self, X: Any) -> np.ndarray:
        """The integer score as float; above 0 exactly when ``predict`` gives ``classes_[1]``."""
        return self.score_points(X).astype(np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities of ``classes_``, a function of the integer score only.

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        check_is_fitted(self)
        scores = self.score_points(X)
        p = self.calibration_proba_[scores - self.base_points_]
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` where the calibrated probability is above 0.5, else ``classes_[0]``."""
        check_is_fitted(self)
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(np.intp)]

    def points_table(self) -> pl.DataFrame:
        """Every feature's bins with their points, training count and event rate.

        Columns: feature, bin (readable label), kind ("interval", "category", "other",
        "missing"), lower and upper (interval bounds, ``[lower, upper)``; null for the
        other kinds), points, count (training rows), event_rate (weighted share of
        ``classes_[1]``; null for a bin without training rows). Add ``base_points_``
        to a row's points to get the score.
        """
        check_is_fitted(self)
        return points_frame(
            self.bins_, self._offsets, self.points_, self.bin_count_, self.bin_event_rate_
        )

    def calibration_table(self) -> pl.DataFrame:
        """Calibrated probability of ``classes_[1]`` for every reachable integer score."""
        check_is_fitted(self)
        start = self.base_points_
        scores = np.arange(start, start + self.calibration_proba_.shape[0])
        return pl.DataFrame({"score": scores, "probability": self.calibration_proba_})

    def explain(self, X: Any, top: int = 3) -> pl.DataFrame:
        """Each row's points per feature and its top reasons.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        top : int, default=3
            Number of reasons: the features with the most points for the row, ties by
            feature order. A reason whose feature adds 0 points has a null name.

        Returns
        -------
        polars.DataFrame
            One row per input row, in input order: ``base_points``, ``points_<feature>``
            for every feature, ``score`` (exactly their sum), then ``reason_<k>`` and
            ``reason_<k>_points`` for k = 1..top.
        """
        codes = self._codes(X)
        n_features, n = codes.shape
        per_feature = np.empty((n_features, n), dtype=np.int64)
        for j in range(n_features):
            per_feature[j] = self.points_[j][codes[j]]
        score = self.base_points_ + per_feature.sum(axis=0)
        out = {"base_points": np.full(n, self.base_points_, dtype=np.int64)}
        out |= {f"points_{b.name}": per_feature[j] for j, b in enumerate(self.bins_)}
        out["score"] = score
        frame = pl.DataFrame(out)
        if top > 0:
            names = [b.name for b in self.bins_]
            frame = frame.with_columns(top_reasons(per_feature, names, min(top, n_features)))
        return frame

    # -- helpers --------------------------------------------------------------------

    def _fit_bins(
        self,
        names: list[str],
        columns: list[Column],
        y01: np.ndarray,
        weights: np.ndarray,
        seed: int,
    ) -> list[FeatureBins]:
        """Every feature's bins, features binned in threads."""
        return Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(fit_bins)(
                name,
                column,
                y01,
                weights,
                method=self.binning,
                n_bins=self.n_bins,
                min_bin_share=self.min_bin_share,
                random_state=seed,
                round_edges=bool(self.round_edges),
            )
            for name, column in zip(names, columns, strict=True)
        )

    def _select(
        self,
        design: Design,
        names: list[str],
        y01: np.ndarray,
        weights: np.ndarray,
        solver: Solver,
        splits: list | None,
    ) -> tuple[Design, list[int]]:
        """Forward selection up to ``max_features`` (every feature when None); records the
        path and which input positions the scorecard keeps."""
        kept = list(range(len(design.bins)))
        self.selection_path_: list[str] = []
        self.selection_cv_log_loss_: list[float] = []
        if self.max_features is not None:
            selection = forward_select(design, y01, weights, solver, splits, int(self.max_features))
            kept = selection.kept
            self.selection_path_ = [names[j] for j in selection.order]
            self.selection_cv_log_loss_ = [float(v) for v in selection.cv_log_loss]
            design = subset(design, kept)
        self._selected = np.asarray(kept, dtype=np.intp)
        self.selected_features_ = np.asarray([names[j] for j in kept], dtype=object)
        return design, kept

    def _names(self) -> list[str]:
        if hasattr(self, "feature_names_in_"):
            return [str(name) for name in self.feature_names_in_]
        return [f"x{j}" for j in range(self.n_features_in_)]

    def _resolve_directions(
        self,
        design: Design,
        kept: list[int],
        requested: dict[int, int | str],
        coef: np.ndarray,
        weights: np.ndarray,
    ) -> dict[int, int]:
        """Directions by position in the scorecard; "auto" read off the unconstrained fit."""
        column_weight = design.column_weights(weights)
        out: dict[int, int] = {}
        for position, j in enumerate(kept):
            if j not in requested:
                continue
            direction = requested[j]
            if direction == "auto":
                offset, n_ordered = int(design.offsets[position]), design.bins[position].n_ordered
                segment = slice(offset, offset + n_ordered)
                direction = monotone_direction(coef[segment], column_weight[segment])
            out[position] = int(direction)
        self.monotonic_ = {design.bins[k].name: d for k, d in out.items()}
        return out

    def _store(
        self,
        design: Design,
        points: np.ndarray,
        raw_base: int,
        score_map: Callable[[np.ndarray], np.ndarray],
        y01: np.ndarray,
        weights: np.ndarray,
    ) -> None:
        """Keep the fitted tables; anchor the base points; tabulate the calibration."""
        self.bins_: list[FeatureBins] = design.bins
        self._offsets = design.offsets
        ends = [*design.offsets[1:], design.n_columns]
        self.points_ = [points[a:b] for a, b in zip(design.offsets, ends, strict=True)]
        highest = sum(int(p.max()) for p in self.points_)
        self.base_points_, self.calibration_proba_ = anchor_base(raw_base, highest, score_map)
        self._points_flat = points
        events = design.column_weights(weights * y01)
        mass = design.column_weights(weights)
        self.bin_count_ = design.column_weights(np.ones_like(weights)).astype(np.int64)
        self.bin_event_rate_ = np.divide(
            events, mass, out=np.full(mass.shape, np.nan), where=mass > 0
        )

    def _codes(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        columns = _to_columns(X, self)
        validate_data(self, X, reset=False, skip_check_array=True)
        # A scorecard saved before feature selection existed uses every column.
        selected = getattr(self, "_selected", None)
        if selected is not None:
            columns = [columns[j] for j in selected]
        columns = [as_kind(c, b.kind, b.name) for b, c in zip(self.bins_, columns, strict=True)]
        return self._encode(self.bins_, columns)

    def _encode(self, bins: list[FeatureBins], columns: list[Column]) -> np.ndarray:
        """Bin codes of shape (n_features, n_samples), features encoded in threads."""
        codes = np.empty((len(bins), columns[0].values.shape[0]), dtype=np.int32)

        def encode(j: int) -> None:
            codes[j] = bins[j].codes(columns[j].values)

        Parallel(n_jobs=self.n_jobs, prefer="threads")(delayed(encode)(j) for j in range(len(bins)))
        return codes
