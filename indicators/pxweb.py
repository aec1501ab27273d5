"""PxWeb "CSV with heading" exports from StatFin: a wide table with periods as columns.

The layout: a title line (``"Työttömyysaste ikäryhmän mukaan 2009-2025"``), optional lines
naming fixed selections (``"Sukupuolet yhteensä"``), a header whose cells after the stub
columns are periods, data rows, and footer lines (``"Yksikkö: prosenttia"``, ``"Lähde: ..."``)
kept as report notes. ``;`` separated files use decimal commas.

The indicator slug is the measure from the title (text before "... mukaan"/"by ...", with
known Finnish measures translated), then any fixed selections that are not totals, then the
stub values: ``unemployment_rate_15_24``. A stub column holding areas (named Alue, Kunta,
Area, ... or whose values all parse as areas) gives the area; without one the table is the
whole country, ``SSS``.
"""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path

import polars as pl

from features.errors import SourceError
from features.text import decode_text, read_bytes, sniff_separator
from indicators.areas import COUNTRY_CODE, is_area_dimension, parse_area
from indicators.labels import check_unique_slugs, compose_slug, normalize_period
from indicators.table import IndicatorTable, finish, parse_values, raise_bad_values

_PERIOD = r"\d{4}(?:[MQK]\d{1,2})?"
_TITLE_TAIL = re.compile(rf"\s+{_PERIOD}(?:\s*[-–]\s*{_PERIOD})?\s*$", re.IGNORECASE)
_BY = re.compile(r"\s+(?:\S+\s+mukaan|by\s.*|efter\s.*)$", re.IGNORECASE)


def read_pxweb_csv(path: Path, *, encoding: str | None = None) -> IndicatorTable:
    """Read a StatFin/PxWeb wide CSV export into the long form."""
    source = str(path)
    text, used = decode_text(read_bytes(path), source, encoding=encoding, fallback="cp1252")
    lines = text.split("\n")
    delimiter = _delimiter(lines)
    rows = [_trim(r) for r in csv.reader(lines, delimiter=delimiter)]
    header_at, n_stub = _header(rows, source)
    header = rows[header_at]
    periods = [normalize_period(c) or "" for c in header[n_stub:]]
    above = [r[0].strip() for r in rows[:header_at] if r and r[0].strip()]
    title, context = (above[0], above[1:]) if above else ("", [])

    data: list[list[str]] = []
    notes = [f"encoding: {used}"]
    for line_no, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not row:
            continue
        if not any(c.strip() for c in row[n_stub:]):
            notes.append(" ".join(c.strip() for c in row if c.strip()))
            continue
        if len(row) > len(header):
            raise SourceError(
                source,
                f"line {line_no} has {len(row)} fields, the header has {len(header)}",
                examples=[delimiter.join(row)],
            )
        # trailing empty cells were trimmed: they are missing values, pad them back
        data.append([c.strip() for c in row] + [""] * (len(header) - len(row)))
    if not data:
        raise SourceError(
            source, "no data rows below the header", examples=[delimiter.join(header)]
        )
    for row_a, row_b in itertools.pairwise(data):  # PxWeb may blank repeated stubs
        for j in range(n_stub):
            if not row_b[j]:
                row_b[j] = row_a[j]

    stub_names = [c.strip() for c in header[:n_stub]]
    area_col = _area_column(stub_names, data)
    measure = _measure(title)
    slugs: dict[str, str] = {}
    records = []
    for row in data:
        qualifiers = [row[j] for j in range(n_stub) if j != area_col]
        label = ", ".join([p for p in (title, *context, *qualifiers) if p])
        slug = compose_slug([measure, *context, *qualifiers])
        slugs[label] = slug
        if area_col is None:
            area = (COUNTRY_CODE, "country")
        else:
            area = parse_area(row[area_col])
            if area is None:
                raise SourceError(
                    source,
                    "an area has no recognisable code",
                    column=stub_names[area_col] or "area",
                    examples=[row[area_col]],
                )
        for period, cell in zip(periods, row[n_stub:], strict=True):
            records.append((*area, period, slug, cell))
    check_unique_slugs(slugs, source)
    if area_col is None:
        notes.append(f"no area column: values taken as the whole country ({COUNTRY_CODE})")
    frame = pl.DataFrame(
        records,
        schema=["area_code", "area_level", "period", "indicator", "text"],
        orient="row",
    )
    values, bad = parse_values(frame.get_column("text"), decimal_comma=delimiter == ";")
    raise_bad_values(frame, bad, source, column="value")
    return finish(
        frame.with_columns(values),
        source=source,
        kind="pxweb_csv",
        labels={slug: label for label, slug in slugs.items()},
        notes=tuple(notes),
    )


def _delimiter(lines: list[str]) -> str:
    """The separator most frequent in the first ten lines (";" when none occurs)."""
    return sniff_separator("\n".join(lines[:10]), candidates=(";", ",", "\t"), default=";")


def _trim(row: list[str]) -> list[str]:
    """Drop trailing empty cells (PxWeb pads title and footer lines with separators)."""
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row[:end]


def _header(rows: list[list[str]], source: str) -> tuple[int, int]:
    """Return the header's line index and the number of stub (label) columns."""
    for i, row in enumerate(rows[:30]):
        n_stub = 0
        while n_stub < len(row) and normalize_period(row[n_stub]) is None:
            n_stub += 1
        rest = row[n_stub:]
        if rest and all(normalize_period(c) for c in rest) and 0 < n_stub <= 5:
            return i, n_stub
    raise SourceError(
        source,
        "no header row with periods (years, 2020M01, 2020Q1) as columns in the first 30 lines",
        examples=[";".join(r) for r in rows[:3]],
    )


def _area_column(names: list[str], data: list[list[str]]) -> int | None:
    for j, name in enumerate(names):
        if is_area_dimension(name):
            return j
    for j in range(len(names)):
        if all(parse_area(row[j]) for row in data):
            return j
    return None


def _measure(title: str) -> str:
    """``"Työttömyysaste ikäryhmän mukaan 2009-2025"`` → ``"Työttömyysaste"``."""
    text = _TITLE_TAIL.sub("", title.strip())
    return _BY.sub("", text).strip() or text
