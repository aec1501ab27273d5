"""Drift: has tonight's population moved away from the one the champion learned from?

The population stability index (PSI) compares the share of rows per bin, with bins fixed
from the training data: ``sum((a - e) * ln(a / e))``. Below 0.1 is usually stable, 0.1-0.25
worth a look, above 0.25 a shift. Missing values keep a bin of their own (``missing``)
rather than being dropped: a source that stops delivering a field moves only that share, and
that is exactly the drift an analyst must see. The reference is aggregate (edges and
shares), so it can live beside the model in MLflow without any personal data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

EPS = 1e-4


def reference_profile(frame: pl.DataFrame, columns: Sequence[str], n_bins: int = 10) -> dict:
    """Bin edges (training quantiles), shares per bin and the missing share, per column.

    The shares are of all rows, the missing share included, so they sum to one. A column
    with no value at all in training has no edges to bin on and is left out.
    """
    profile = {}
    for name in columns:
        column = frame[name].cast(pl.Float64)
        values = column.drop_nulls().to_numpy()
        if values.size == 0:
            continue
        edges = np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1))[1:-1])
        shares, missing = _shares(values, edges, column.len())
        profile[name] = {"edges": edges.tolist(), "shares": shares.tolist(), "missing": missing}
    return profile


def _shares(values: np.ndarray, edges: np.ndarray, total: int) -> tuple[np.ndarray, float]:
    """Shares of ``total`` rows per value bin, and the share of rows with no value."""
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    if total == 0:
        return counts.astype(float), 0.0
    return counts / total, (total - values.size) / total


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, dtype=float), EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _column_psi(column: pl.Series, ref: Mapping) -> float:
    """PSI of one column against its reference, over the value bins and the missing bin.

    A profile saved before the missing bin existed (no ``missing`` key) is compared as it
    was made, over the present values only, so an older champion still scores.
    """
    column = column.cast(pl.Float64)
    values = column.drop_nulls().to_numpy()
    edges = np.asarray(ref["edges"], dtype=float)
    expected = np.asarray(ref["shares"], dtype=float)
    if "missing" not in ref:
        actual, _ = _shares(values, edges, values.size)
        return psi(expected, actual)
    actual, missing = _shares(values, edges, column.len())
    return psi(np.append(expected, float(ref["missing"])), np.append(actual, missing))


def drift_table(frame: pl.DataFrame, profile: Mapping[str, Mapping]) -> pl.DataFrame:
    """PSI per profiled column of ``frame``, largest first."""
    rows = [
        (name, _column_psi(frame[name], ref))
        for name, ref in profile.items()
        if name in frame.columns
    ]
    return pl.DataFrame(rows, schema={"feature": pl.String, "psi": pl.Float64}, orient="row").sort(
        "psi", descending=True
    )
