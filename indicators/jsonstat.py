"""JSON-stat 2.0 datasets, the format PxWeb APIs (StatFin, Aluesarjat) return.

A dataset has ``id`` (dimension order), ``size``, ``dimension`` (each with
``category.index``: a list or ``{code: position}``, and ``category.label``), ``role``
(``time``, ``geo``, ``metric``) and ``value``: a dense array in row-major order with ``null``
for missing cells, or a sparse object ``{"position": value}``. Category codes are tried before
labels for periods ("2018M01") and labels before codes for areas ("091 Helsinki", "KU091").
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from features.errors import SourceError
from features.text import decode_text, read_bytes
from indicators.cube import Cube, Dimension, cube_to_table
from indicators.table import IndicatorTable, parse_values


def read_jsonstat(path: Path, *, encoding: str | None = None) -> IndicatorTable:
    """Read a JSON-stat 2.0 dataset into the long form."""
    source = str(path)
    text, _ = decode_text(read_bytes(path), source, encoding=encoding)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        lines = text.split("\n")
        line = lines[err.lineno - 1] if 0 < err.lineno <= len(lines) else ""
        raise SourceError(
            source,
            f"is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}",
            examples=[line.strip()[:160]],
        ) from None
    dataset = _dataset(doc, source)
    cube = _cube(dataset, source)
    notes = (f"label: {dataset['label']}",) if isinstance(dataset.get("label"), str) else ()
    return cube_to_table(cube, kind="jsonstat", notes=notes)


def _dataset(doc: Any, source: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise SourceError(source, "JSON-stat must be a JSON object")
    if doc.get("class") == "dataset":
        return doc
    if "class" not in doc:  # JSON-stat 1.x bundle: {"name": {dataset}}
        inner = [v for v in doc.values() if isinstance(v, dict) and "dimension" in v]
        if len(inner) == 1:
            return inner[0]
    raise SourceError(
        source,
        f'expected a JSON-stat dataset (class "dataset"), found class {doc.get("class")!r}',
        hint="Collections and bundles of several datasets must be split into datasets.",
    )


def _require(obj: dict[str, Any], key: str, kind: type, source: str, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind):
        raise SourceError(
            source,
            f"{where}: {key!r} is missing or not a {kind.__name__}",
            examples=[repr(value)[:80]],
        )
    return value


def _cube(ds: dict[str, Any], source: str) -> Cube:
    ids = _require(ds, "id", list, source, "dataset")
    sizes = _require(ds, "size", list, source, "dataset")
    dims_obj = _require(ds, "dimension", dict, source, "dataset")
    if not all(isinstance(i, str) for i in ids):
        raise SourceError(source, f"'id' must list dimension names as strings, found {ids}")
    if len(ids) != len(sizes) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise SourceError(
            source,
            f"'size' {sizes} does not give one non-negative integer per dimension in 'id' {ids}",
        )
    dims = []
    for name, size in zip(ids, sizes, strict=True):
        dim_obj = dims_obj.get(name)
        if not isinstance(dim_obj, dict):
            raise SourceError(source, f"dimension {name!r} is listed in 'id' but not described")
        dim = _dimension(name, dim_obj, source)
        if dim.size != size:
            raise SourceError(
                source,
                f"dimension {name!r} has {dim.size} categories but 'size' says {size}",
                column=name,
            )
        dims.append(dim)
    total = math.prod(sizes)
    cells = _values(ds.get("value"), total, source)
    values, bad = parse_values(pl.Series("value", cells, dtype=pl.String))
    if bad.any():
        raise SourceError(
            source,
            f"{int(bad.sum())} value(s) are not numbers",
            column="value",
            examples=[cells[i] for i in bad.arg_true().head(5).to_list()],
        )
    role = ds.get("role") or dims_obj.get("role") or {}  # 1.x kept role inside "dimension"
    return Cube(
        source=source,
        dimensions=tuple(dims),
        values=values,
        time=_role(role, "time", source),
        geo=_role(role, "geo", source),
        metric=_role(role, "metric", source),
        title=ds.get("label") if isinstance(ds.get("label"), str) else None,
    )


def _dimension(name: str, obj: dict[str, Any], source: str) -> Dimension:
    category = obj.get("category")
    if not isinstance(category, dict):
        raise SourceError(source, f"dimension {name!r} has no 'category' object", column=name)
    index = category.get("index")
    labels = category.get("label") or {}
    if not isinstance(labels, dict):
        raise SourceError(source, f"category 'label' of {name!r} must be an object", column=name)
    if isinstance(index, list):
        codes = [str(c) for c in index]
    elif isinstance(index, dict):
        positions = sorted(index.items(), key=lambda kv: kv[1])
        if [p for _, p in positions] != list(range(len(positions))):
            raise SourceError(
                source,
                f"category 'index' of {name!r} does not number positions 0..n-1",
                column=name,
                examples=[f"{c}: {p}" for c, p in positions[:5]],
            )
        codes = [str(c) for c, _ in positions]
    elif index is None and labels:
        codes = [str(c) for c in labels]
    else:
        raise SourceError(source, f"dimension {name!r} has neither index nor label", column=name)
    return Dimension(
        name=name,
        codes=tuple(codes),
        labels=tuple(str(labels.get(c, c)) for c in codes),
    )


def _values(raw: Any, total: int, source: str) -> list[str | None]:
    """Dense list of cells as text (None = missing) from the array or the sparse object."""
    if isinstance(raw, list):
        if len(raw) != total:
            raise SourceError(
                source,
                f"'value' has {len(raw)} cells but 'size' multiplies to {total}",
                column="value",
            )
        return [_cell(v, source) for v in raw]
    if isinstance(raw, dict):
        cells: list[str | None] = [None] * total
        for key, v in raw.items():
            try:
                pos = int(key)
            except ValueError:
                pos = -1
            if not 0 <= pos < total:
                raise SourceError(
                    source,
                    f"sparse 'value' key {key!r} is not a position in 0..{total - 1}",
                    column="value",
                )
            cells[pos] = _cell(v, source)
        return cells
    raise SourceError(source, "'value' must be an array or an object", column="value")


def _cell(v: Any, source: str) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise SourceError(source, "a cell in 'value' is not a number", examples=[repr(v)[:80]])
    return str(v)


def _role(role: Any, kind: str, source: str) -> str | None:
    names = role.get(kind) if isinstance(role, dict) else None
    if not names:
        return None
    if not isinstance(names, list) or len(names) != 1:
        raise SourceError(source, f"role {kind!r} must name exactly one dimension")
    return str(names[0])
