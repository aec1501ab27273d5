"""Input handling for the scorecard: tabular X into typed columns, y and weights checked.

Every feature becomes a :class:`Column` that is either *numeric* (a float64 array in
which NaN marks a missing value) or *categorical* (an object array of ``str`` in which
``None`` marks a missing value). numpy arrays, pandas and polars DataFrames go through
the same rules, so the three give identical columns for the same data:

- a numeric dtype (ints, floats, booleans, pandas nullable numerics) is numeric;
- an object column whose values are all real numbers or missing is numeric;
- anything else (strings, categoricals, mixed objects) is categorical, compared by the
  ``str`` of each value.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl
from sklearn.utils import assert_all_finite, check_array
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

Kind = Literal["numeric", "categorical"]
NUMERIC: Kind = "numeric"
CATEGORICAL: Kind = "categorical"


@dataclass(frozen=True)
class Column:
    """One feature: its kind and its values (float64 with NaN, or object with None)."""

    kind: Kind
    values: np.ndarray


def to_columns(X: Any, estimator: object) -> list[Column]:
    """Split ``X`` into typed columns.

    Parameters
    ----------
    X : array-like, pandas.DataFrame or polars.DataFrame of shape (n_samples, n_features)
        The input. Sparse matrices are refused.
    estimator : object
        Named in error messages.

    Returns
    -------
    list of Column
        One per feature, in input order.
    """
    if isinstance(X, pl.DataFrame):
        _check_frame_shape(X.shape, estimator)
        return [_polars_column(X.get_column(name)) for name in X.columns]
    if isinstance(X, pd.DataFrame):
        _check_frame_shape(X.shape, estimator)
        return [_pandas_column(X.iloc[:, j]) for j in range(X.shape[1])]
    array = check_array(
        X,
        dtype=None,
        accept_sparse=False,
        ensure_all_finite=False,
        ensure_2d=True,
        input_name="X",
        estimator=estimator,
    )
    if array.dtype.kind in "biuf":
        return [_numeric(array[:, j]) for j in range(array.shape[1])]
    if array.dtype.kind == "O":
        return [_object_column(array[:, j]) for j in range(array.shape[1])]
    # Fixed-width or variable-width strings: every column is categorical.
    return [
        Column(CATEGORICAL, np.asarray(array[:, j], dtype=object)) for j in range(array.shape[1])
    ]


def as_kind(column: Column, kind: Kind, name: str) -> Column:
    """Return ``column`` converted to the kind the feature had in ``fit``."""
    if column.kind == kind:
        return column
    if kind == CATEGORICAL:
        values = column.values.astype(object)
        values[np.isnan(column.values)] = None
        return Column(CATEGORICAL, _as_str(values))
    raise ValueError(
        f"Feature {name!r} was numeric in fit but has non-numeric values now; "
        "convert it to numbers (or refit with it as a categorical feature)."
    )


def check_target(y: Any, n_samples: int, estimator: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate a binary target.

    Returns
    -------
    classes : ndarray of shape (2,)
        The sorted class labels.
    y01 : ndarray of shape (n_samples,)
        1 where ``y == classes[1]``, else 0.
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    y = column_or_1d(np.asarray(y) if isinstance(y, pl.Series) else y, warn=True)
    if y.shape[0] != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {y.shape[0]}]"
        )
    if y.dtype.kind in "fc":
        assert_all_finite(y, input_name="y")
    check_classification_targets(y)
    y_type = type_of_target(y, input_name="y", raise_unknown=True)
    if y_type != "binary":
        raise ValueError(
            f"Only binary classification is supported. The type of the target is {y_type}."
        )
    classes, y01 = np.unique(y, return_inverse=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of 2 classes, but the data contains "
            f"only one class: {classes[0]!r}."
        )
    return classes, y01.astype(np.int8)


def check_weights(sample_weight: Any, n_samples: int) -> np.ndarray:
    """Validate sample weights: finite, non-negative, one per row, not all zero."""
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, numbers.Real):
        sample_weight = np.full(n_samples, float(sample_weight))
    weights = np.array(sample_weight, dtype=np.float64)  # a copy: never written back
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(f"sample_weight.shape == {weights.shape}, expected ({n_samples},).")
    assert_all_finite(weights, input_name="sample_weight")
    if (weights < 0).any():
        raise ValueError("Negative values in sample_weight are not allowed.")
    if not (weights > 0).any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return weights


def _check_frame_shape(shape: tuple[int, int], estimator: object) -> None:
    name = type(estimator).__name__
    if shape[0] < 1:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 is "
            f"required by {name}."
        )
    if shape[1] < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is "
            f"required by {name}."
        )


def _numeric(values: np.ndarray) -> Column:
    out = np.ascontiguousarray(values, dtype=np.float64)  # never written to
    if np.isinf(out).any():
        raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
    return Column(NUMERIC, out)


def _polars_column(series: pl.Series) -> Column:
    dtype = series.dtype
    if dtype.is_numeric() or dtype in (pl.Boolean, pl.Null):
        return _numeric(series.cast(pl.Float64).to_numpy())
    if dtype == pl.Object:
        return _object_column(series.to_numpy())
    try:
        values = series.cast(pl.String).to_numpy()
    except pl.exceptions.InvalidOperationError as error:
        raise TypeError(f"Column {series.name!r} of dtype {dtype} is not supported.") from error
    return Column(CATEGORICAL, np.asarray(values, dtype=object))


def _pandas_column(series: pd.Series) -> Column:
    dtype = series.dtype
    if pd.api.types.is_object_dtype(dtype):
        return _object_column(series.to_numpy(dtype=object))
    if pd.api.types.is_numeric_dtype(dtype):
        return _numeric(series.to_numpy(dtype=np.float64, na_value=np.nan))
    values = series.to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = None
    return Column(CATEGORICAL, _as_str(values))


def _object_column(values: np.ndarray) -> Column:
    """Numeric when every present value is a real number, else categorical."""
    values = np.asarray(values, dtype=object)
    missing = np.fromiter((_is_missing(v) for v in values), dtype=bool, count=values.shape[0])
    present = values[~missing]
    if all(isinstance(v, numbers.Real) and not isinstance(v, str) for v in present):
        out = np.full(values.shape[0], np.nan)
        out[~missing] = present.astype(np.float64)
        return _numeric(out)
    out = values.copy()
    out[missing] = None
    return Column(CATEGORICAL, _as_str(out))


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and bool(np.isnan(value))


def _as_str(values: np.ndarray) -> np.ndarray:
    """Make every non-missing value a ``str`` (categories are compared by their text)."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values
    return np.array([None if v is None else str(v) for v in values], dtype=object)
