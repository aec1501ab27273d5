"""The scorecard's parameters checked, the monotone directions it was asked for, its folds.

Apart from the estimator because these read only the parameters (and the input's kinds),
never the fitted state: the estimator keeps the steps of fitting, this module what a call
is allowed to ask for.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold, check_cv

from models._scorecard_input import NUMERIC, Column


def check_params(est: Any) -> None:
    """Refuse a parameter the scorecard cannot honour, with the value it got."""
    if est.binning not in ("quantile", "tree"):
        raise ValueError(f"binning must be 'quantile' or 'tree', got {est.binning!r}.")
    if not isinstance(est.n_bins, numbers.Integral) or est.n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2, got {est.n_bins!r}.")
    for name in ("max_features", "max_points"):
        value = getattr(est, name)
        if value is not None and (not isinstance(value, numbers.Integral) or value < 1):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}.")
    if not 0.0 <= est.min_bin_share < 0.5:
        raise ValueError(f"min_bin_share must be in [0, 0.5), got {est.min_bin_share!r}.")
    if est.calibration not in ("auto", "isotonic", "platt"):
        raise ValueError(
            f"calibration must be 'auto', 'isotonic' or 'platt', got {est.calibration!r}."
        )
    for name in ("C", "pdo", "tol"):
        if not getattr(est, name) > 0:
            raise ValueError(f"{name} must be positive, got {getattr(est, name)!r}.")
    if not isinstance(est.max_iter, numbers.Integral) or est.max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {est.max_iter!r}.")
    if isinstance(est.cv, numbers.Integral) and est.cv < 2:
        raise ValueError(f"cv must be at least 2 folds, got {est.cv!r}.")


def requested_directions(
    monotonic: Any, names: list[str], columns: list[Column]
) -> dict[int, int | str]:
    """Requested direction per input position: 1, -1 or "auto" (numeric features only)."""
    if monotonic is None:
        return {}
    if isinstance(monotonic, str):
        if monotonic != "auto":
            raise ValueError(f"monotonic must be 'auto', a dict or None, got {monotonic!r}.")
        return {j: "auto" for j, c in enumerate(columns) if c.kind == NUMERIC}
    directions: dict[int, int | str] = {}
    for key, direction in monotonic.items():
        if isinstance(key, numbers.Integral) and 0 <= key < len(names):
            j = int(key)
        elif key in names:
            j = names.index(key)
        else:
            raise ValueError(f"monotonic names an unknown feature: {key!r}.")
        if direction not in (1, -1, "auto"):
            raise ValueError(f"monotonic direction of {key!r} must be 1, -1 or 'auto'.")
        if columns[j].kind != NUMERIC:
            raise ValueError(f"monotonic feature {key!r} is not numeric.")
        directions[j] = direction if direction == "auto" else int(direction)
    return directions


def cv_splits(cv: Any, y01: np.ndarray, seed: int) -> list | None:
    """The internal cross-fitting folds; None when a class is too small for two folds."""
    placeholder = np.zeros((y01.shape[0], 1))
    if isinstance(cv, numbers.Integral):
        n_splits = min(int(cv), int(np.bincount(y01).min()))
        if n_splits < 2:
            return None
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    else:
        splitter = check_cv(cv, y01, classifier=True)
    return list(splitter.split(placeholder, y01))
