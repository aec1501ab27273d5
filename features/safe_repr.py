"""Representations of run objects that say how much, never who.

Run objects travel through Prefect and Dask, which print a task's arguments in some errors
(a parameter that does not bind, a value that cannot be sent to a worker). The default
representation of a dataclass of polars frames prints their first rows, pseudonyms and
contact details included; this one prints only sizes, so such an error cannot carry
personal data into a log.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import polars as pl


def sizes_repr(self: object) -> str:
    """``Name(field=<size>, …)`` for a dataclass: frames by shape, collections by length."""
    parts = [f"{f.name}={_describe(getattr(self, f.name))}" for f in fields(self)]  # type: ignore[arg-type]
    return f"{type(self).__name__}({', '.join(parts)})"


def _describe(value: object) -> str:
    if isinstance(value, pl.DataFrame):
        return f"<{value.height} rows × {value.width} columns>"
    if isinstance(value, pl.Series):
        return f"<{value.len()} values>"
    if isinstance(value, bool | int | float | date) or value is None:
        return repr(value)
    if isinstance(value, dict | list | tuple | set):
        return f"<{type(value).__name__} of {len(value)}>"
    return f"<{type(value).__name__}>"
