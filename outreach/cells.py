"""Small cells, suppressed by arithmetic: no share or count is published about a few persons.

A share is a count over a count. Publishing 0.5 of 2 persons tells the reader about one
person as surely as naming them, and so does 0.95 of 20 when the 20 are known. So a share
is published only when its denominator and its numerator both reach
``privacy.min_cell_size``; a numerator of zero is published (it says "nobody", about no
one). Counts follow the same rule. Everything that leaves Ennakko as a figure about
persons (MLflow metrics, reports, tables) goes through these helpers.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl


def publishable(count: float | None, min_cell: int) -> bool:
    """Whether a count of persons may be published: zero, or at least ``min_cell``."""
    return count is not None and (count == 0 or count >= min_cell)


def share(numerator: float, denominator: float, min_cell: int) -> float | None:
    """``numerator / denominator``, or None when either is a small cell (or the base is 0)."""
    if denominator <= 0 or denominator < min_cell or not publishable(numerator, min_cell):
        return None
    return numerator / denominator


def counts(values: Mapping[str, float], min_cell: int) -> dict[str, float]:
    """The publishable entries of ``values`` (small counts left out)."""
    return {k: v for k, v in values.items() if publishable(v, min_cell)}


def share_expr(numerator: pl.Expr, denominator: pl.Expr, min_cell: int) -> pl.Expr:
    """The polars form of :func:`share`: null where either side is a small cell."""
    small_num = (numerator > 0) & (numerator < min_cell)
    small_den = denominator < min_cell
    return pl.when(~(small_num | small_den | (denominator <= 0))).then(numerator / denominator)


def count_expr(count: pl.Expr, min_cell: int) -> pl.Expr:
    """The polars form of :func:`publishable` for a count: null where it is a small cell."""
    return pl.when((count == 0) | (count >= min_cell)).then(count)
