"""Per-feature binning for the scorecard: fit bins, map values to bin codes, merge bins.

Bin layout of one feature (the code of a value is its position in this list):

- numeric: ``len(edges) + 1`` intervals ``[edges[k-1], edges[k])`` (the first one
  open to -inf, the last one to +inf), then the ``missing`` bin;
- categorical: the kept categories (sorted), then ``other``, then ``missing``.

The ``missing`` bin (and a categorical feature's ``other`` bin) always exists, even
when no training row falls in it; such an empty bin gets a zero coefficient under the
L2 penalty, i.e. the feature's average effect, so an unseen category or a missing value
never seen in training is scored as neutral rather than as an extreme bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.tree import DecisionTreeClassifier

from models._scorecard_input import CATEGORICAL, NUMERIC, Column, Kind

#: Candidate cut points offered to the supervised (tree) binning.
_TREE_CANDIDATES = 256
#: Up to this many cut points, values are binned by comparisons, not binary search.
_FEW_EDGES = 16


@dataclass(frozen=True)
class FeatureBins:
    """The fitted bins of one feature."""

    name: str
    kind: Kind
    edges: np.ndarray  # numeric: sorted cut points; empty for categorical
    categories: tuple[str, ...] = ()  # categorical: kept categories in bin order

    @property
    def n_bins(self) -> int:
        """Number of bins, including ``missing`` (and ``other``)."""
        if self.kind == NUMERIC:
            return self.edges.shape[0] + 2
        return len(self.categories) + 2

    @property
    def missing_code(self) -> int:
        return self.n_bins - 1

    @property
    def n_ordered(self) -> int:
        """Number of ordered (interval) bins; 0 for a categorical feature."""
        return self.edges.shape[0] + 1 if self.kind == NUMERIC else 0

    def codes(self, values: np.ndarray) -> np.ndarray:
        """Bin code of every value (int32)."""
        if self.kind == NUMERIC:
            if self.edges.shape[0] <= _FEW_EDGES:
                # Counting the edges <= x is faster than a binary search for few edges.
                codes = np.zeros(values.shape[0], dtype=np.int32)
                for edge in self.edges:
                    codes += values >= edge
            else:
                codes = np.searchsorted(self.edges, values, side="right").astype(np.int32)
            codes[np.isnan(values)] = self.missing_code
            return codes
        codes = pd.Index(self.categories, dtype=object).get_indexer(values).astype(np.int32)
        codes[codes < 0] = len(self.categories)  # rare or unseen: other
        codes[pd.isna(values)] = self.missing_code
        return codes

    def describe(self) -> tuple[list[str], list[str], list[float | None], list[float | None]]:
        """Per bin: readable label, kind (interval/category/other/missing), lower, upper."""
        if self.kind == NUMERIC:
            bounds = np.concatenate([[-np.inf], self.edges, [np.inf]])
            lower = [float(v) for v in bounds[:-1]]
            upper = [float(v) for v in bounds[1:]]
            labels = [_interval_label(lo, hi) for lo, hi in zip(lower, upper, strict=True)]
            kinds = ["interval"] * len(labels)
            return [*labels, "missing"], [*kinds, "missing"], [*lower, None], [*upper, None]
        labels = [*self.categories, "other", "missing"]
        kinds = ["category"] * len(self.categories) + ["other", "missing"]
        return labels, kinds, [None] * len(labels), [None] * len(labels)

    def merge(self, blocks: list[tuple[int, int]]) -> tuple[FeatureBins, np.ndarray]:
        """Merge runs of adjacent interval bins.

        Parameters
        ----------
        blocks : list of (first, last)
            Inclusive ranges of interval codes that become one bin each.

        Returns
        -------
        bins : FeatureBins
            The coarser bins.
        remap : ndarray of shape (n_bins,)
            New code of every old code.
        """
        drop = np.zeros(self.edges.shape[0], dtype=bool)
        for first, last in blocks:
            drop[first:last] = True  # edge k separates interval k from interval k + 1
        new_index = np.concatenate([[0], np.cumsum(~drop)]).astype(np.int32)
        remap = np.append(new_index, new_index[-1] + 1).astype(np.int32)
        return FeatureBins(self.name, NUMERIC, self.edges[~drop]), remap


def fit_bins(
    name: str,
    column: Column,
    y01: np.ndarray,
    weights: np.ndarray,
    *,
    method: str,
    n_bins: int,
    min_bin_share: float,
    random_state: int,
    round_edges: bool = False,
) -> FeatureBins:
    """Fit the bins of one feature (rows with zero weight are ignored).

    With ``round_edges``, cut points become numbers a person would write (see
    :func:`readable_edges`); a bin left without training rows by the rounding is merged away.
    """
    if column.kind == CATEGORICAL:
        return _fit_categorical(name, column.values, weights, min_bin_share, n_bins)
    values = column.values
    keep = ~np.isnan(values) & (weights > 0)
    x, w = values[keep], weights[keep]
    if x.shape[0] == 0:
        return FeatureBins(name, NUMERIC, np.empty(0))
    if method == "quantile":
        edges = weighted_quantiles(x, w, np.arange(1, n_bins) / n_bins)
    else:
        edges = _tree_edges(x, w, y01[keep], n_bins, min_bin_share, random_state)
    edges = np.unique(edges)
    if round_edges:
        edges = readable_edges(edges, x)
    return FeatureBins(name, NUMERIC, edges[edges > x.min()])


def readable_edges(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Cut points rounded to values a person would write, keeping only bins with rows.

    A cut point is rounded to two significant digits, and never finer than a twentieth of
    the feature's central spread (5th to 95th percentile, or its range) taken down to a
    power of ten; for whole-number features (counts, days) never finer than 1. So 137 days
    reads 140, 1.2e-05 recent contacts reads 0 (and the cut disappears). Cut points that
    coincide after rounding, or that would leave a bin without a training row, are dropped.
    """
    if edges.shape[0] == 0:
        return edges
    low, high = np.quantile(x, [0.05, 0.95])
    spread = high - low if high > low else float(x.max() - x.min())
    step = 10.0 ** np.floor(np.log10(spread / 20.0)) if spread > 0 else 1.0
    if np.all(x == np.round(x)):
        step = max(step, 1.0)
    rounded = np.round(edges / step) * step
    rounded = np.array([_significant(v, 2) for v in rounded])
    rounded = np.unique(rounded[rounded > x.min()])
    # Keep a cut only if the bin it closes holds rows: x >= previous cut and < this cut.
    kept: list[float] = []
    sorted_x = np.sort(x)
    for edge in rounded:
        previous = kept[-1] if kept else -np.inf
        left = np.searchsorted(sorted_x, previous, side="left")
        right = np.searchsorted(sorted_x, edge, side="left")
        if right > left:
            kept.append(float(edge))
    if kept and np.searchsorted(sorted_x, kept[-1], side="left") == sorted_x.shape[0]:
        kept.pop()  # the last bin, [last cut, inf), would be empty
    return np.asarray(kept, dtype=np.float64)


def _significant(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits (0 stays 0)."""
    if value == 0 or not np.isfinite(value):
        return float(value)
    magnitude = int(np.floor(np.log10(abs(value))))
    return float(np.round(value, digits - 1 - magnitude))


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Inverted-CDF quantiles: for each q the smallest x whose cumulative weight >= q * total.

    Integer weights give exactly the quantiles of the repeated rows, and every quantile
    is a value of ``x``.
    """
    if np.all(w == w[0]):
        # Equal weights: select with a partition, O(n) rather than a full sort.
        ranks = np.clip(np.ceil(qs * x.shape[0]).astype(np.intp) - 1, 0, x.shape[0] - 1)
        ranks = np.unique(ranks)
        return np.partition(x, ranks)[ranks]
    order = np.argsort(x, kind="stable")
    cumulative = np.cumsum(w[order])
    ranks = np.searchsorted(cumulative, qs * cumulative[-1], side="left")
    return x[order][np.clip(ranks, 0, x.shape[0] - 1)]


def monotone_blocks(
    coefficients: np.ndarray, bin_weights: np.ndarray, direction: int
) -> list[tuple[int, int]]:
    """Runs of adjacent bins the pool-adjacent-violators fit pools together.

    ``IsotonicRegression`` on the bins' coefficients (weighted by the bins' training
    weight) pools every run that violates ``direction``; each pooled run of two or
    more bins is returned as an inclusive ``(first, last)`` range.
    """
    iso = IsotonicRegression(increasing=direction > 0)
    index = np.arange(coefficients.shape[0], dtype=np.float64)
    fitted = iso.fit_transform(index, coefficients, sample_weight=np.maximum(bin_weights, 1e-12))
    starts = np.flatnonzero(np.r_[True, fitted[1:] != fitted[:-1]])
    ends = np.r_[starts[1:], fitted.shape[0]] - 1
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b > a]


def monotone_direction(coefficients: np.ndarray, bin_weights: np.ndarray) -> int:
    """The direction the data show over ordered bins: 1, -1, or 0 when they refuse one.

    Both isotonic fits (rising and falling, weighted by bin size) are tried on the
    unconstrained coefficients; the one with the smaller weighted squared error wins.
    The data refuse a direction when even the winner leaves more than a quarter of the
    weighted variance between the bins unexplained (a clear U or hump, e.g. risk highest
    at both ends); then the feature stays unconstrained.
    """
    if coefficients.shape[0] < 3:
        return 1 if coefficients.shape[0] < 2 or coefficients[-1] >= coefficients[0] else -1
    w = np.maximum(bin_weights, 1e-12)
    index = np.arange(coefficients.shape[0], dtype=np.float64)
    errors = {}
    for direction in (1, -1):
        fitted = IsotonicRegression(increasing=direction > 0).fit_transform(
            index, coefficients, sample_weight=w
        )
        errors[direction] = float(np.sum(w * (coefficients - fitted) ** 2))
    best = min((1, -1), key=lambda d: (errors[d], -d))
    mean = np.average(coefficients, weights=w)
    variance = float(np.sum(w * (coefficients - mean) ** 2))
    if variance > 0 and errors[best] > 0.25 * variance:
        return 0
    return best


def _fit_categorical(
    name: str, values: np.ndarray, weights: np.ndarray, min_bin_share: float, n_bins: int
) -> FeatureBins:
    """Categories with at least ``min_bin_share`` of the weight, at most ``n_bins - 1`` of
    them (the largest; ties by name), so that with ``other`` there are at most ``n_bins``."""
    keep = ~pd.isna(values) & (weights > 0)
    codes, uniques = pd.factorize(values[keep], sort=True)
    share = np.bincount(codes, weights=weights[keep], minlength=len(uniques))
    share /= weights.sum()
    order = np.argsort(-share, kind="stable")[: max(n_bins - 1, 1)]
    kept = tuple(sorted(str(uniques[k]) for k in order if share[k] >= min_bin_share))
    return FeatureBins(name, CATEGORICAL, np.empty(0), kept)


def _tree_edges(
    x: np.ndarray,
    w: np.ndarray,
    y01: np.ndarray,
    n_bins: int,
    min_bin_share: float,
    random_state: int,
) -> np.ndarray:
    """Cut points of a shallow tree grown on the feature alone.

    The tree sees the data aggregated over at most 256 quantile candidates (with the
    class weights as sample weights), which is exact for features with few distinct
    values and fast on millions of rows.
    """
    candidates = np.unique(weighted_quantiles(x, w, np.arange(1, _TREE_CANDIDATES) / 256))
    candidates = candidates[candidates > x.min()]
    fine = np.searchsorted(candidates, x, side="right")
    n_fine = candidates.shape[0] + 1
    weight = np.bincount(fine * 2 + y01, weights=w, minlength=2 * n_fine)
    present = weight > 0
    code_and_class = np.flatnonzero(present)
    tree = DecisionTreeClassifier(
        max_leaf_nodes=max(n_bins, 2),
        min_weight_fraction_leaf=min(min_bin_share, 0.5),
        random_state=random_state,
    )
    tree.fit(
        (code_and_class // 2).reshape(-1, 1).astype(np.float64),
        code_and_class % 2,
        sample_weight=weight[present],
    )
    split = tree.tree_.feature >= 0
    thresholds = np.sort(tree.tree_.threshold[split])
    # A threshold t = k + 0.5 puts fine codes <= k left: the cut point is candidates[k].
    return candidates[np.floor(thresholds).astype(np.intp)]


def _interval_label(lower: float, upper: float) -> str:
    left = "(-inf" if np.isneginf(lower) else f"[{_number(lower)}"
    right = "inf)" if np.isposinf(upper) else f"{_number(upper)})"
    return f"{left}, {right}"


def _number(value: float) -> str:
    return f"{value:.6g}"
