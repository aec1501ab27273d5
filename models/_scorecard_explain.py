"""What a fitted scorecard shows a person: its points table and each row's top reasons.

Apart from the estimator because these only lay out tables the fit already made; the
estimator passes its fitted parts in, so nothing here can change a score.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models._scorecard_binning import FeatureBins


def points_frame(
    bins: list[FeatureBins],
    offsets: np.ndarray,
    points: list[np.ndarray],
    counts: np.ndarray,
    event_rates: np.ndarray,
) -> pl.DataFrame:
    """Every feature's bins with their points, training count and event rate."""
    frames = []
    for j, b in enumerate(bins):
        labels, kinds, lower, upper = b.describe()
        segment = slice(offsets[j], offsets[j] + b.n_bins)
        frames.append(
            pl.DataFrame(
                {
                    "feature": [b.name] * b.n_bins,
                    "bin": labels,
                    "kind": kinds,
                    "lower": pl.Series(lower, dtype=pl.Float64),
                    "upper": pl.Series(upper, dtype=pl.Float64),
                    "points": points[j],
                    "count": counts[segment],
                    "event_rate": pl.Series(event_rates[segment]).fill_nan(None),
                }
            )
        )
    return pl.concat(frames)


def top_reasons(per_feature: np.ndarray, names: list[str], top: int) -> list[pl.Series]:
    """The ``top`` features with most points per row (ties: feature order)."""
    remaining = per_feature.astype(np.int32)  # points are small; halves the copy
    rows = np.arange(per_feature.shape[1])
    labels = pl.Series(names, dtype=pl.String)
    series = []
    for k in range(1, top + 1):
        best = remaining.argmax(axis=0)  # the first feature among equals
        points = remaining[best, rows]
        remaining[best, rows] = np.iinfo(remaining.dtype).min
        name = labels.gather(pl.Series(best, dtype=pl.UInt32)).set(pl.Series(points <= 0), None)
        points = points.astype(np.int64)
        series += [name.alias(f"reason_{k}"), pl.Series(f"reason_{k}_points", points)]
    return series
