"""Calibration of integer scorecard scores: isotonic or Platt, chosen by held-out Brier score.

Both maps are fitted on scores aggregated per distinct integer score (weight of each
class per score), which is exactly equivalent to fitting on the rows and costs nothing
at millions of rows. Both maps are non-decreasing in the score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

ScoreMap = Callable[[np.ndarray], np.ndarray]
METHODS = ("isotonic", "platt")


@dataclass(frozen=True)
class ScoreCounts:
    """Total weight of each class at every distinct score."""

    scores: np.ndarray
    negative: np.ndarray
    positive: np.ndarray

    @classmethod
    def of(cls, scores: np.ndarray, y01: np.ndarray, weights: np.ndarray) -> ScoreCounts:
        low = int(scores.min())
        shifted = scores - low  # small non-negative integers: count by bincount, not sort
        positive = np.bincount(shifted, weights=weights * y01)
        total = np.bincount(shifted, weights=weights)
        present = np.flatnonzero(total > 0)  # rows of zero weight count for nothing
        return cls(present + low, (total - positive)[present], positive[present])

    def brier(self, score_map: ScoreMap) -> float:
        """Weighted Brier score of ``score_map`` on these counts."""
        p = score_map(self.scores)
        loss = self.positive * (1.0 - p) ** 2 + self.negative * p**2
        return float(loss.sum() / (self.positive.sum() + self.negative.sum()))


def fit_isotonic(counts: ScoreCounts) -> ScoreMap:
    """Isotonic regression of the event rate on the score (clipped outside the range)."""
    total = counts.positive + counts.negative
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(counts.scores.astype(np.float64), counts.positive / total, sample_weight=total)
    return lambda scores: np.asarray(iso.predict(np.asarray(scores, dtype=np.float64)))


def fit_platt(counts: ScoreCounts) -> ScoreMap:
    """Platt scaling: a 1-D logistic regression on the (standardised) score.

    Uses Platt's smoothed targets ``(N+ + 1) / (N+ + 2)`` and ``1 / (N- + 2)`` so a
    perfectly separated training set still gives a finite slope. A fitted slope <= 0
    (a score that does not rank) is replaced by the constant smoothed event rate, so the
    map is always non-decreasing.
    """
    n_pos, n_neg = counts.positive.sum(), counts.negative.sum()
    t_pos, t_neg = (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0)
    w_one = counts.positive * t_pos + counts.negative * t_neg
    w_zero = counts.positive * (1.0 - t_pos) + counts.negative * (1.0 - t_neg)
    total = w_one + w_zero
    scores = counts.scores.astype(np.float64)
    centre = float(np.average(scores, weights=total))
    spread = float(np.sqrt(np.average((scores - centre) ** 2, weights=total))) or 1.0
    z = (scores - centre) / spread
    lr = LogisticRegression(C=1e8, tol=1e-10, max_iter=1000)
    lr.fit(
        np.concatenate([z, z]).reshape(-1, 1),
        np.r_[np.ones_like(z), np.zeros_like(z)],
        sample_weight=np.concatenate([w_one, w_zero]),
    )
    slope, intercept = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    if slope <= 0.0:
        rate = float(w_one.sum() / total.sum())
        return lambda s: np.full(np.shape(s), rate)
    return lambda s: expit(slope * (np.asarray(s, dtype=np.float64) - centre) / spread + intercept)


_FITTERS: dict[str, Callable[[ScoreCounts], ScoreMap]] = {
    "isotonic": fit_isotonic,
    "platt": fit_platt,
}


def choose_calibration(
    scores: np.ndarray,
    y01: np.ndarray,
    weights: np.ndarray,
    folds: np.ndarray,
    method: str,
) -> tuple[str, ScoreMap, dict[str, float]]:
    """Fit the calibration map, choosing between isotonic and Platt when ``method="auto"``.

    Parameters
    ----------
    scores, y01, weights : ndarray of shape (n,)
        Out-of-fold integer scores, 0/1 target and sample weights.
    folds : ndarray of shape (n,)
        Fold of every row. The candidate maps are compared by their Brier score on each
        fold after fitting on the other folds (on the rows themselves if there is only
        one fold).
    method : {"auto", "isotonic", "platt"}

    Returns
    -------
    name : str
        The method used.
    score_map : callable
        The map fitted on all rows.
    brier : dict
        Held-out Brier score of each candidate (empty unless ``method="auto"``).
    """
    candidates = METHODS if method == "auto" else (method,)
    brier = {name: 0.0 for name in candidates}
    if len(candidates) > 1:
        fold_ids = np.unique(folds)
        total = weights.sum()
        for fold in fold_ids:
            test = folds == fold
            train = ~test if fold_ids.shape[0] > 1 else test
            fit_counts = ScoreCounts.of(scores[train], y01[train], weights[train])
            test_counts = ScoreCounts.of(scores[test], y01[test], weights[test])
            share = weights[test].sum() / total
            for name in candidates:
                brier[name] += float(share * test_counts.brier(_FITTERS[name](fit_counts)))
    # Ties go to Platt: two parameters are the simpler map.
    name = min(candidates, key=lambda m: (brier[m], m != "platt"))
    score_map = _FITTERS[name](ScoreCounts.of(scores, y01, weights))
    return name, score_map, (brier if len(candidates) > 1 else {})


def anchor_base(raw_base: int, highest: int, score_map: ScoreMap) -> tuple[int, np.ndarray]:
    """Base points and the probability of every reachable score from it.

    The base is shifted so that a score above 0 means a calibrated probability above 0.5
    (``predict`` agrees with ``decision_function > 0``); when no reachable score crosses
    0.5, by the least shift that keeps this true.
    """
    raw_scores = np.arange(raw_base, raw_base + highest + 1)
    proba = np.asarray(score_map(raw_scores), dtype=np.float64)
    above = proba > 0.5
    if above.all():
        shift = max(0, 1 - raw_base)
    elif not above.any():
        shift = min(0, -int(raw_scores[-1]))
    else:
        shift = 1 - int(raw_scores[np.argmax(above)])
    return int(raw_base + shift), proba
