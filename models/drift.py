"""Drift: has tonight's population moved away from the one the champion learned from?

The population stability index (PSI) compares the share of rows per bin, with bins fixed
from the training data: ``sum((a - e) * ln(a / e))``. Below 0.1 is usually stable, 0.1-0.25
worth a look, above 0.25 a shift. The reference is aggregate (edges and shares), so it can
live beside the model in MLflow without any personal data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

EPS = 1e-4


def reference_profile(frame: pl.DataFrame, columns: Sequence[str], n_bins: int = 10) -> dict:
    """Bin edges (training quantiles) and shares per column, for later PSI."""
    profile = {}
    for name in columns:
        values = frame[name].cast(pl.Float64).drop_nulls().to_numpy()
        if values.size == 0:
            continue
        edges = np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1))[1:-1])
        shares = _shares(values, edges)
        profile[name] = {"edges": edges.tolist(), "shares": shares.tolist()}
    return profile


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    return counts / max(values.size, 1)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, dtype=float), EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def drift_table(frame: pl.DataFrame, profile: Mapping[str, Mapping]) -> pl.DataFrame:
    """PSI per profiled column of ``frame``, largest first."""
    rows = []
    for name, ref in profile.items():
        if name not in frame.columns:
            continue
        values = frame[name].cast(pl.Float64).drop_nulls().to_numpy()
        edges = np.asarray(ref["edges"], dtype=float)
        rows.append((name, psi(np.asarray(ref["shares"]), _shares(values, edges))))
    return pl.DataFrame(rows, schema={"feature": pl.String, "psi": pl.Float64}, orient="row").sort(
        "psi", descending=True
    )
