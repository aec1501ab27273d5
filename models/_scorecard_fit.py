"""The scorecard's points model: one-hot bins, logistic regression, integer points.

The design is never materialised densely: each row has exactly one non-zero (a one) per
feature, so the CSR matrix is built straight from the bin codes. Refits (monotone merges,
cross-fitting) are warm-started from the previous solution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.utils.parallel import Parallel, delayed

from models._scorecard_binning import FeatureBins, monotone_blocks


@dataclass(frozen=True)
class Solver:
    """Settings of the logistic regression on the bins."""

    C: float
    tol: float
    max_iter: int
    scale: float  # points per unit of log-odds


#: Rows per block when summing points row-wise (bounds the temporary memory).
_BLOCK = 1 << 16


@dataclass
class Design:
    """The training rows' bins: ``index[i, j]`` is the one-hot column of row i, feature j.

    Row-major, so the array is the CSR ``indices`` as it stands and any row subset is a
    cheap row gather; all the matrices share one read-only array of ones as their data.
    """

    bins: list[FeatureBins]
    index: np.ndarray  # (n_samples, n_features) int32
    ones: np.ndarray | None = None
    offsets: np.ndarray = field(init=False)

    @classmethod
    def from_codes(cls, bins: list[FeatureBins], codes: np.ndarray) -> Design:
        """Design from per-feature bin codes of shape (n_features, n_samples)."""
        return cls(bins, np.ascontiguousarray((codes + _offsets(bins)[:, None]).T))

    def __post_init__(self) -> None:
        self.offsets = _offsets(self.bins)
        if self.ones is None:
            self.ones = np.ones(self.index.size, dtype=np.float64)
            self.ones.flags.writeable = False

    @property
    def n_columns(self) -> int:
        return int(self.offsets[-1]) + self.bins[-1].n_bins

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """One-hot CSR matrix of the bins: one 1 per feature in every row."""
        return self.rows_matrix(None)

    def rows_matrix(self, rows: np.ndarray | None) -> sp.csr_matrix:
        """One-hot CSR matrix of the given rows (all rows if None)."""
        index = self.index if rows is None else self.index[rows]
        n_rows, n_features = index.shape
        indptr = np.arange(0, index.size + 1, n_features, dtype=np.int64)
        if index.size < np.iinfo(np.int32).max:
            indptr = indptr.astype(np.int32)
        data = self.ones[: index.size]
        return sp.csr_matrix((data, index.ravel(), indptr), shape=(n_rows, self.n_columns))

    def column_weights(self, weights: np.ndarray) -> np.ndarray:
        """Total sample weight in every bin (column)."""
        return np.asarray(self.matrix.T @ weights)

    def scores(self, points: np.ndarray, base: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Integer score ``base + sum of points`` of the (given) rows."""
        index = self.index if rows is None else self.index[rows]
        score = np.empty(index.shape[0], dtype=np.int64)
        for start in range(0, index.shape[0], _BLOCK):
            block = slice(start, start + _BLOCK)
            score[block] = base + points[index[block]].sum(axis=1)
        return score


def _offsets(bins: list[FeatureBins]) -> np.ndarray:
    sizes = np.array([b.n_bins for b in bins], dtype=np.int64)
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32)


def total_scores(
    codes: np.ndarray, offsets: np.ndarray, points: np.ndarray, base: int
) -> np.ndarray:
    """``base`` plus every feature's points, for bin codes of shape (n_features, n)."""
    score = np.full(codes.shape[1], base, dtype=np.int64)
    for j, offset in enumerate(offsets):
        score += points[offset:][codes[j]]
    return score


def fit_logistic(
    X: sp.csr_matrix,
    y01: np.ndarray,
    weights: np.ndarray,
    solver: Solver,
    init: tuple[np.ndarray, float] | None = None,
) -> tuple[np.ndarray, float, int]:
    """L2 logistic regression on the one-hot bins: (coefficients, intercept, iterations)."""
    lr = LogisticRegression(
        C=solver.C, tol=solver.tol, max_iter=solver.max_iter, warm_start=init is not None
    )
    if init is not None:
        # With warm_start, fit() starts from the solution stored in these attributes.
        lr.coef_ = np.asarray(init[0], dtype=np.float64).reshape(1, -1).copy()
        lr.intercept_ = np.array([init[1]], dtype=np.float64)
    lr.fit(X, y01, sample_weight=weights)
    return lr.coef_[0].copy(), float(lr.intercept_[0]), int(lr.n_iter_[0])


def integer_points(
    design: Design, coef: np.ndarray, intercept: float, observed: np.ndarray, scale: float
) -> tuple[np.ndarray, int]:
    """Round coefficients to points and shift each feature's lowest-risk bin to 0.

    Each bin gets ``round(scale * coef)``; the minimum over the feature's bins seen in
    training is subtracted from the feature and added to the base points, so the score
    ``base + sum(points)`` equals ``round(scale * intercept) + sum(round(scale * coef))``
    on seen bins. A bin without training rows gets 0 points: nothing was learnt there,
    so it adds no risk (it scores as the feature's lowest-risk bin).
    """
    raw = np.rint(scale * coef).astype(np.int64)
    points = np.zeros_like(raw)
    base = int(np.rint(scale * intercept))
    for j, offset in enumerate(design.offsets):
        segment = slice(offset, offset + design.bins[j].n_bins)
        seen = observed[segment]
        low = int(raw[segment][seen].min()) if seen.any() else 0
        points[segment] = np.where(seen, raw[segment] - low, 0)
        base += low
    return points, base


def points_scale(
    design: Design,
    coef: np.ndarray,
    intercept: float,
    observed: np.ndarray,
    max_points: int,
) -> float:
    """Points per unit of log-odds so that the highest total of feature points is at most
    ``max_points`` (and as close to it as rounding allows).

    The first guess spreads ``max_points`` over the sum of the features' coefficient
    ranges (seen bins only); rounding can add a point per feature, so the scale is then
    lowered in 1% steps until the rounded maximum fits.
    """
    spans = 0.0
    for j, offset in enumerate(design.offsets):
        segment = slice(offset, offset + design.bins[j].n_bins)
        seen = coef[segment][observed[segment]]
        if seen.shape[0]:
            spans += float(seen.max() - seen.min())
    if spans <= 0:
        return 1.0
    scale = max_points / spans
    for _ in range(200):
        points, _ = integer_points(design, coef, intercept, observed, scale)
        if highest_total(design, points) <= max_points:
            break
        scale *= 0.99
    return scale


def highest_total(design: Design, points: np.ndarray) -> int:
    """The largest sum of feature points a person can reach."""
    ends = [*design.offsets[1:], design.n_columns]
    return int(sum(points[a:b].max() for a, b in zip(design.offsets, ends, strict=True)))


def fit_monotone(
    design: Design,
    y01: np.ndarray,
    weights: np.ndarray,
    solver: Solver,
    directions: dict[int, int],
    start: tuple[np.ndarray, float, int] | None = None,
) -> tuple[Design, np.ndarray, float, int]:
    """Fit the points model, merging adjacent bins until every constraint holds.

    After each fit, a constrained feature whose coefficients break its direction has
    the runs of bins that the pool-adjacent-violators algorithm pools (on the bins'
    coefficients) merged into single bins, and the model is refitted (warm-started).
    Monotone coefficients give monotone points at any scale (rounding keeps order).
    Every round removes at least one bin, so the loop ends, at worst with one bin.
    ``start`` is an already fitted (coefficients, intercept, iterations) on ``design``.
    Returns the final design, coefficients, intercept and total solver iterations.
    """
    if start is None:
        coef, intercept, n_iter = fit_logistic(design.matrix, y01, weights, solver)
    else:
        coef, intercept, n_iter = start
    for _ in range(design.n_columns):
        column_weight = design.column_weights(weights)
        merged: dict[int, np.ndarray] = {}
        bins = list(design.bins)
        for j, direction in directions.items():
            offset, n_ordered = int(design.offsets[j]), design.bins[j].n_ordered
            segment = coef[offset : offset + n_ordered]
            if np.all(direction * np.diff(segment) >= 0):
                continue
            blocks = monotone_blocks(segment, column_weight[offset : offset + n_ordered], direction)
            if not blocks:
                continue
            bins[j], merged[j] = design.bins[j].merge(blocks)
        if not merged:
            break
        design, init = _remap(design, bins, merged, coef, column_weight)
        coef, intercept, more = fit_logistic(design.matrix, y01, weights, solver, (init, intercept))
        n_iter += more
    return design, coef, intercept, n_iter


def cross_fit_scores(
    design: Design,
    y01: np.ndarray,
    weights: np.ndarray,
    solver: Solver,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    start: tuple[np.ndarray, float],
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold integer scores with the bins fixed and the coefficients refitted.

    Each fold's model is warm-started from the model fitted on all rows. The folds run
    in ``n_jobs`` threads (the sparse products and the loss release the GIL).

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Each row's score from the model fitted without its fold.
    folds : ndarray of shape (n_samples,)
        Fold of each row; -1 for rows in no test set (left out of calibration).
    """
    n = design.index.shape[0]
    folds = np.full(n, -1, dtype=np.int64)
    splits = [(np.asarray(train), np.asarray(test)) for train, test in splits]
    for k, (train, test) in enumerate(splits):
        if (folds[test] >= 0).any():
            raise ValueError("cv must give disjoint test sets (a partition of the rows).")
        folds[test] = k
        if np.unique(y01[train][weights[train] > 0]).shape[0] < 2:
            raise ValueError(
                f"The training part of cv fold {k} has only one class; use fewer folds."
            )
    fitted = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(_fold_scores)(design, y01, weights, solver, train, test, start)
        for train, test in splits
    )
    scores = np.zeros(n, dtype=np.int64)
    for (_, test), fold_scores in zip(splits, fitted, strict=True):
        scores[test] = fold_scores
    return scores, folds


def _fold_scores(
    design: Design,
    y01: np.ndarray,
    weights: np.ndarray,
    solver: Solver,
    train: np.ndarray,
    test: np.ndarray,
    start: tuple[np.ndarray, float],
) -> np.ndarray:
    X = design.rows_matrix(train)
    coef, intercept, _ = fit_logistic(X, y01[train], weights[train], solver, start)
    observed = np.asarray(X.T @ weights[train]) > 0
    points, base = integer_points(design, coef, intercept, observed, solver.scale)
    return design.scores(points, base, test)


def _remap(
    design: Design,
    bins: list[FeatureBins],
    merged: dict[int, np.ndarray],
    coef: np.ndarray,
    column_weight: np.ndarray,
) -> tuple[Design, np.ndarray]:
    """New design after merges, and the weighted-mean coefficients to warm-start from."""
    new_offsets = _offsets(bins)
    target = np.empty(design.n_columns, dtype=np.int32)  # new column of every old one
    for j, offset in enumerate(design.offsets):
        n_bins = design.bins[j].n_bins
        remap = merged.get(j, np.arange(n_bins, dtype=np.int32))
        target[offset : offset + n_bins] = new_offsets[j] + remap
    new = Design(bins, target[design.index], design.ones)
    mass = np.bincount(target, weights=column_weight, minlength=new.n_columns)
    total = np.bincount(target, weights=coef * column_weight, minlength=new.n_columns)
    init = np.divide(total, mass, out=np.zeros(new.n_columns), where=mass > 0)
    return new, init
