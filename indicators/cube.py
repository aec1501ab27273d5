"""An N-dimensional table of cells (PC-Axis, JSON-stat) → the long form.

Both formats store a dense array in row-major order (the last dimension varies fastest) with
named dimensions. One dimension is time (→ ``period``), at most one is area (→ ``area_code``
and ``area_level``), and every combination of the others becomes the indicator slug, the
measure dimension first (``unemployed_men``). Without an area dimension the table is taken to
be national (``SSS``), as StatFin tables without one are; the report notes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from features.errors import SourceError
from indicators.areas import COUNTRY_CODE, is_area_dimension, parse_area
from indicators.labels import (
    check_unique_slugs,
    compose_slug,
    is_measure,
    normalize_period,
)
from indicators.table import IndicatorTable, finish

TIME_DIMENSION_NAMES = frozenset(
    {
        "vuosi",
        "year",
        "kuukausi",
        "month",
        "vuosineljännes",
        "neljännes",
        "quarter",
        "aika",
        "time",
        "år",
        "tid",
        "månad",
        "kvartal",
    }
)


@dataclass(frozen=True)
class Dimension:
    """One dimension: its name, category codes and labels (same length, same order)."""

    name: str
    codes: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.codes)


@dataclass(frozen=True)
class Cube:
    """A dense cell array with its dimensions and (optionally) declared roles."""

    source: str
    dimensions: tuple[Dimension, ...]
    values: pl.Series  # Float64, null = missing, row-major
    time: str | None = None
    geo: str | None = None
    metric: str | None = None
    title: str | None = None  # names the indicator when no dimension besides time/area


def cube_to_table(cube: Cube, *, kind: str, notes: tuple[str, ...] = ()) -> IndicatorTable:
    """Flatten ``cube`` into a validated :class:`IndicatorTable`."""
    dims = cube.dimensions
    expected = math.prod(d.size for d in dims)
    if len(cube.values) != expected:
        shape = " × ".join(f"{d.size} {d.name}" for d in dims)
        raise SourceError(
            cube.source,
            f"has {len(cube.values)} values but its dimensions ({shape}) need {expected}",
        )
    names = [d.name for d in dims]
    time = cube.time or _find_time(dims, cube.source)
    geo = cube.geo if cube.geo is not None else _find_area(dims, exclude=time)
    notes = tuple(notes)
    for role, name in (("time", time), ("area", geo), ("measure", cube.metric)):
        if name is not None and name not in names:
            raise SourceError(cube.source, f"the {role} dimension {name!r} is not a dimension")

    strides = np.cumprod([1, *[d.size for d in reversed(dims)]])[:-1][::-1]
    cells = np.arange(expected, dtype=np.int64)
    index = {d.name: (cells // s) % d.size for d, s in zip(dims, strides, strict=True)}

    periods = _periods(dims[names.index(time)], cube.source)
    period_col = np.asarray(periods, dtype=object)[index[time]]

    if geo is None:
        notes += (f"no area dimension: values taken as the whole country ({COUNTRY_CODE})",)
        codes = np.full(expected, COUNTRY_CODE, dtype=object)
        levels = np.full(expected, "country", dtype=object)
    else:
        parsed = _areas(dims[names.index(geo)], cube.source)
        codes = np.asarray([p[0] for p in parsed], dtype=object)[index[geo]]
        levels = np.asarray([p[1] for p in parsed], dtype=object)[index[geo]]

    others = [d for d in dims if d.name not in (time, geo)]
    metric = cube.metric or next(
        (d.name for d in others if all(is_measure(label) for label in d.labels)), None
    )
    others.sort(key=lambda d: d.name != metric)  # stable: measure first, then file order
    slugs, labels = _indicator_slugs(others, cube.source, cube.title)
    combo = np.zeros(expected, dtype=np.int64)
    for d in others:
        combo = combo * d.size + index[d.name]
    indicator_col = np.asarray(slugs, dtype=object)[combo]

    frame = pl.DataFrame(
        {
            "area_code": codes,
            "area_level": levels,
            "period": period_col,
            "indicator": indicator_col,
            "value": cube.values,
        },
        schema={
            "area_code": pl.String,
            "area_level": pl.String,
            "period": pl.String,
            "indicator": pl.String,
            "value": pl.Float64,
        },
    )
    return finish(
        frame,
        source=cube.source,
        kind=kind,
        labels=dict(zip(slugs, labels, strict=True)),
        notes=notes,
    )


def _find_time(dims: tuple[Dimension, ...], source: str) -> str:
    for d in dims:
        if d.name.strip().casefold() in TIME_DIMENSION_NAMES:
            return d.name
    for d in dims:
        if all(
            normalize_period(c) or normalize_period(label)
            for c, label in zip(d.codes, d.labels, strict=True)
        ):
            return d.name
    raise SourceError(
        source,
        "no time dimension (Vuosi, Kuukausi, Year, ... or one whose values are periods)",
        examples=[f"dimensions: {', '.join(d.name for d in dims)}"],
    )


def _find_area(dims: tuple[Dimension, ...], *, exclude: str) -> str | None:
    candidates = [d for d in dims if d.name != exclude]
    for d in candidates:
        if is_area_dimension(d.name):
            return d.name
    for d in candidates:
        if all(parse_area(label) for label in d.labels):
            return d.name
    return None


def _periods(dim: Dimension, source: str) -> list[str]:
    periods = []
    for code, label in zip(dim.codes, dim.labels, strict=True):
        period = normalize_period(code) or normalize_period(label)
        if period is None:
            raise SourceError(
                source,
                f"time dimension {dim.name!r} has a value that is not a year, month or quarter",
                column=dim.name,
                examples=[label],
            )
        periods.append(period)
    return periods


def _areas(dim: Dimension, source: str) -> list[tuple[str, str]]:
    parsed, bad = [], []
    for code, label in zip(dim.codes, dim.labels, strict=True):
        area = parse_area(label) or parse_area(code)
        if area is None:
            bad.append(label)
        parsed.append(area)
    if bad:
        raise SourceError(
            source,
            f"{len(bad)} area(s) in dimension {dim.name!r} have no recognisable code",
            column=dim.name,
            examples=bad,
            hint='Expected labels such as "091 Helsinki", "091 1 Eteläinen suurpiiri", '
            '"00100 Helsinki keskusta", "KOKO MAA" or codes such as "KU091", "SSS".',
        )
    return parsed  # type: ignore[return-value]


def _indicator_slugs(
    dims: list[Dimension], source: str, title: str | None
) -> tuple[list[str], list[str]]:
    """Slug and label for every combination of ``dims`` (row-major order)."""
    if not dims:
        return [compose_slug([title or "value"])], [title or "value"]
    combos: list[tuple[str, ...]] = [()]
    for d in dims:
        combos = [(*c, label) for c in combos for label in d.labels]
    slugs = [compose_slug(c) for c in combos]
    labels = [", ".join(c) for c in combos]
    check_unique_slugs(dict(zip(labels, slugs, strict=True)), source)
    return slugs, labels
