"""Drift keeps a bin for missing values: a field that stops arriving is drift, not noise."""

import numpy as np
import polars as pl

from models.drift import drift_table, reference_profile


def test_drift_keeps_a_bin_for_missing_values() -> None:
    """Only the missing share moves (a source stops delivering a field for a third of the
    rows) and the present values look the same: dropping the nulls would hide it."""
    rng = np.random.default_rng(2)
    train = pl.DataFrame({"x": rng.normal(0, 1, 50_000)})
    present = rng.normal(0, 1, 50_000)
    gaps = pl.Series("x", [None if i % 3 == 0 else v for i, v in enumerate(present)])
    profile = reference_profile(train, ["x"])
    assert profile["x"]["missing"] == 0.0
    assert drift_table(pl.DataFrame({"x": present}), profile)["psi"][0] < 0.01
    assert drift_table(pl.DataFrame([gaps]), profile)["psi"][0] > 0.25
    sparse = reference_profile(pl.DataFrame([gaps]), ["x"])
    assert abs(sparse["x"]["missing"] - 1 / 3) < 0.01
    assert abs(sum(sparse["x"]["shares"]) + sparse["x"]["missing"] - 1.0) < 1e-9
    assert drift_table(pl.DataFrame([gaps]), sparse)["psi"][0] < 0.01
