"""The Helsinki area hierarchy (Aluesarjat ``HKI-Aluehierarkia.csv``) as a mapping table.

The file is ``;`` separated UTF-8 with old Mac (CR-only) line endings and no header; each line
is a path from the city down: ``091 Helsinki;091 1 Eteläinen suurpiiri;091 101 Vironniemen
peruspiiri;091 10 Kruununhaka``. Three short lines hang district groups and the residual
"Muut" directly under the city. The result has one row per (area, ancestor) pair, so it maps
any level to any coarser one with :func:`indicators.mapping.map_areas`.
"""

from __future__ import annotations

import csv
import itertools
import os
from pathlib import Path

import polars as pl

from features.errors import SourceError
from features.text import decode_text, read_bytes
from indicators.areas import area_name, parse_area

MAPPING_COLUMNS: tuple[str, ...] = (
    "from_level",
    "from_code",
    "from_name",
    "to_level",
    "to_code",
    "to_name",
)

#: Coarse to fine. Groups and the residual hang under a municipality but contain nothing.
_RANK = {
    "country": 0,
    "municipality": 1,
    "district_group": 2,
    "major_district": 2,
    "basic_district": 3,
    "sub_district": 4,
    "postal_code": 4,
    "unallocated": 5,
}


def read_area_hierarchy(
    path: str | os.PathLike[str], *, encoding: str | None = None
) -> pl.DataFrame:
    """Read an area hierarchy file into a mapping table.

    Returns
    -------
    polars.DataFrame
        Columns ``from_level, from_code, from_name, to_level, to_code, to_name``: one row for
        every area and each of its ancestors (sub-district → basic district, → major district,
        → municipality; basic district → major district; ...).
    """
    path = Path(path)
    source = str(path)
    text, _ = decode_text(read_bytes(path), source, encoding=encoding)
    edges: dict[tuple[str, str, str], tuple[str, str, str]] = {}
    names: dict[tuple[str, str], str] = {}
    for line_no, row in enumerate(csv.reader(text.split("\n"), delimiter=";"), start=1):
        fields = [f.strip() for f in row if f.strip()]
        if not fields:
            continue
        path_areas = []
        for field in fields:
            area = parse_area(field)
            if area is None:
                raise SourceError(
                    source,
                    f"line {line_no}: an area has no recognisable code",
                    examples=[field, ";".join(row)],
                )
            path_areas.append(area)
            names.setdefault(area, area_name(field))
        ranks = [_RANK[level] for _, level in path_areas]
        if len(fields) < 2 or any(a >= b for a, b in itertools.pairwise(ranks)):
            raise SourceError(
                source,
                f"line {line_no} is not a path from a city down to a district",
                examples=[";".join(row)],
            )
        for i, parent in enumerate(path_areas):
            for child in path_areas[i + 1 :]:
                key = (child[1], child[0], parent[1])
                if edges.setdefault(key, parent) != parent:
                    raise SourceError(
                        source,
                        f"line {line_no}: {child[1]} {child[0]} is placed under two different "
                        f"{parent[1]}s ({edges[key][0]} and {parent[0]})",
                        examples=[";".join(row)],
                    )
    if not edges:
        raise SourceError(source, "no hierarchy lines")
    rows = [
        (
            from_level,
            from_code,
            names[(from_code, from_level)],
            to_level,
            to_code,
            names[(to_code, to_level)],
        )
        for (from_level, from_code, _), (to_code, to_level) in edges.items()
    ]
    return pl.DataFrame(rows, schema=list(MAPPING_COLUMNS), orient="row").sort(
        ["from_level", "from_code", "to_level"]
    )
