"""Forward feature selection for the scorecard, stopped on cross-validated log-loss.

A scorecard a person can read has few features. Selection runs on the binned features:

1. Start from the intercept-only model.
2. Rank every feature not yet in the model by the score (Rao) test of adding its bins to
   the current model: ``sum over bins of g² / h`` with ``g`` the bin's summed residual
   ``w (y - p)`` and ``h`` its summed ``w p (1 - p)``, a chi-square with one degree of
   freedom fewer than the feature has filled bins, compared across features by its normal
   deviate (:func:`significance`). This is what one Newton step on the feature would
   gain, so it needs no refit per candidate.
3. Add the best one and refit; record the cross-validated log-loss of the model so far.
4. Stop at ``max_features``; keep the prefix of the path with the lowest cross-validated
   log-loss (a feature that does not lower the held-out loss is not worth a line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models._scorecard_fit import Design, Solver, fit_logistic


@dataclass(frozen=True)
class Selection:
    """The forward path: features in the order they entered, and the kept prefix."""

    order: list[int]  # feature positions, in entry order
    cv_log_loss: list[float]  # held-out log-loss after each entry
    n_kept: int

    @property
    def kept(self) -> list[int]:
        """Kept feature positions, in input order."""
        return sorted(self.order[: self.n_kept])


def subset(design: Design, features: Sequence[int]) -> Design:
    """The design restricted to ``features`` (positions, in the order given)."""
    bins = [design.bins[j] for j in features]
    sizes = np.array([b.n_bins for b in bins], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32)
    columns = list(features)
    index = design.index[:, columns] - design.offsets[columns] + offsets
    return Design(bins, np.ascontiguousarray(index, dtype=np.int32))


def forward_select(
    design: Design,
    y01: np.ndarray,
    weights: np.ndarray,
    solver: Solver,
    splits: Sequence[tuple[np.ndarray, np.ndarray]] | None,
    max_features: int,
) -> Selection:
    """Forward selection of at most ``max_features`` features (see the module docstring).

    Without ``splits`` (too few rows of a class for cross-validation) the in-sample
    log-loss is used, so the path is kept whole.
    """
    n_features = len(design.bins)
    X = design.matrix
    total = float(weights.sum())
    p = np.full(y01.shape[0], float(np.dot(weights, y01)) / total)
    order: list[int] = []
    losses: list[float] = []
    fitted: tuple[np.ndarray, float] | None = None
    while len(order) < min(max_features, n_features):
        best = _best_candidate(design, X, y01, weights, p, order)
        if best is None:
            break
        order.append(best)
        sub = subset(design, order)
        init = _grow(fitted, design.bins[best].n_bins)
        coef, intercept, _ = fit_logistic(sub.matrix, y01, weights, solver, init)
        fitted = (coef, intercept)
        p = _proba(sub.matrix, coef, intercept)
        losses.append(_cv_log_loss(sub, y01, weights, solver, splits, fitted))
    if not order:
        return Selection([0], [float("nan")], 1)
    n_kept = int(np.argmin(losses)) + 1
    return Selection(order, losses, n_kept)


def _best_candidate(
    design: Design,
    X,
    y01: np.ndarray,
    weights: np.ndarray,
    p: np.ndarray,
    chosen: list[int],
) -> int | None:
    """The feature whose score test for entering the model is most significant."""
    g = np.asarray(X.T @ (weights * (y01 - p)))
    h = np.asarray(X.T @ (weights * p * (1.0 - p)))
    best, best_logp = None, np.inf
    for j, b in enumerate(design.bins):
        if j in chosen:
            continue
        segment = slice(design.offsets[j], design.offsets[j] + b.n_bins)
        filled = h[segment] > 0
        df = int(filled.sum()) - 1
        if df < 1:
            continue
        stat = float(np.sum(g[segment][filled] ** 2 / h[segment][filled]))
        z = -significance(stat, df)
        if z < best_logp:
            best, best_logp = j, z
    return best


def significance(stat: float, df: int) -> float:
    """How far a chi-square statistic lies in its tail, as a standard normal deviate.

    The Wilson-Hilferty cube-root transform: monotone in the p-value for a given ``df``
    and comparable across ``df``, and it never saturates (on hundreds of thousands of
    rows p-values underflow to 0, and ``chi2.logsf`` to -inf, for every useful feature).
    """
    k = 2.0 / (9.0 * df)
    return float(((stat / df) ** (1.0 / 3.0) - (1.0 - k)) / np.sqrt(k))


def _grow(fitted: tuple[np.ndarray, float] | None, n_new: int) -> tuple[np.ndarray, float] | None:
    """Warm start for the model with one more feature: zeros for its bins."""
    if fitted is None:
        return None
    return np.concatenate([fitted[0], np.zeros(n_new)]), fitted[1]


def _proba(X, coef: np.ndarray, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(X @ coef + intercept)))


def _log_loss(y01: np.ndarray, weights: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    loss = -(y01 * np.log(p) + (1 - y01) * np.log1p(-p))
    return float(np.dot(weights, loss) / weights.sum())


def _cv_log_loss(
    design: Design,
    y01: np.ndarray,
    weights: np.ndarray,
    solver: Solver,
    splits: Sequence[tuple[np.ndarray, np.ndarray]] | None,
    start: tuple[np.ndarray, float],
) -> float:
    """Weighted held-out log-loss over the splits (in-sample when there are none)."""
    if not splits:
        return _log_loss(y01, weights, _proba(design.matrix, *start))
    loss, mass = 0.0, 0.0
    for train, test in splits:
        coef, intercept, _ = fit_logistic(
            design.rows_matrix(train), y01[train], weights[train], solver, start
        )
        p = _proba(design.rows_matrix(test), coef, intercept)
        w = weights[test]
        if w.sum() > 0:
            loss += _log_loss(y01[test], w, p) * float(w.sum())
            mass += float(w.sum())
    return loss / mass if mass > 0 else float("nan")
