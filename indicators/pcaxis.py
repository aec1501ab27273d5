"""PC-Axis (``.px``) files, as Aluesarjat and the PxWeb databases publish them.

A PX file is a list of ``KEYWORD[lang]("sub","keys")=value;`` statements followed by
``DATA=`` and the cell values, row-major over the STUB then HEADING variables. Values may be
quoted strings (adjacent strings on consecutive lines concatenate, commas separate list
items), numbers, or ``TLIST(...)``. This parser reads any number of dimensions; it does not
read the sparse ``KEYS`` layout and says so.

Encoding: an explicit ``encoding`` argument wins, then ``CODEPAGE``; otherwise valid UTF-8 is
read as UTF-8, and anything else as Windows-1252 when ``CHARSET="ANSI"`` (the spec's meaning)
or DOS code page 850 when CHARSET is absent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from features.errors import SourceError
from features.text import decode_text, read_bytes
from indicators.cube import Cube, Dimension, cube_to_table
from indicators.table import MISSING_MARKERS, IndicatorTable, parse_values

_KEY = re.compile(
    r"\s*([A-Za-z][A-Za-z0-9_-]*)"  # keyword
    r"(?:\[([^\]]*)\])?"  # [language]
    r'(?:\(((?:"[^"]*"|[^")])*)\))?'  # ("sub","keys")
    r"\s*="
)
_VALUE = re.compile(r'(?:"[^"]*"|[^";]+)*+;')
_ITEM = re.compile(r'"([^"]*)"|(,)|([^\s",]+)')
_DATA_TOKEN = re.compile(r'"([^"]*)"|([^\s";]+)')
_DATA_SYMBOLS = (
    "DATASYMBOL1",
    "DATASYMBOL2",
    "DATASYMBOL3",
    "DATASYMBOL4",
    "DATASYMBOL5",
    "DATASYMBOL6",
    "DATASYMBOLNIL",
    "DATASYMBOLSUM",
)


@dataclass(frozen=True)
class PxFile:
    """The parsed metadata (default language only) and the raw DATA tokens."""

    source: str
    keys: dict[tuple[str, tuple[str, ...]], list[str]]
    data: list[str]
    encoding: str

    def get(self, keyword: str, *args: str) -> list[str] | None:
        return self.keys.get((keyword, args))

    def first(self, keyword: str, *args: str) -> str | None:
        items = self.get(keyword, *args)
        return items[0] if items else None


def read_pcaxis(path: Path, *, encoding: str | None = None) -> IndicatorTable:
    """Read a PC-Axis file into the long form."""
    px = parse_px(path, encoding=encoding)
    cube = px_cube(px)
    notes = [f"encoding: {px.encoding}"]
    for keyword in ("UNITS", "SOURCE"):
        if (text := px.first(keyword)) is not None:
            notes.append(f"{keyword.lower()}: {text.strip()}")
    return cube_to_table(cube, kind="pcaxis", notes=tuple(notes))


def parse_px(path: Path, *, encoding: str | None = None) -> PxFile:
    """Parse the statements of a PX file; raise SourceError for anything malformed."""
    source = str(path)
    raw = read_bytes(path)
    declared = encoding or _codepage(raw)
    if declared is not None:
        text, used = decode_text(raw, source, encoding=declared)
    else:
        ansi = re.search(rb'CHARSET\s*=\s*"ANSI"', raw[:4096]) is not None
        text, used = decode_text(raw, source, fallback="cp1252" if ansi else "cp850")
    keys, data = _statements(text, source)
    return PxFile(source=source, keys=keys, data=data, encoding=used)


def _codepage(raw: bytes) -> str | None:
    m = re.search(rb'CODEPAGE\s*=\s*"([^"]+)"', raw)
    return m.group(1).decode("ascii", errors="replace") if m else None


def _statements(
    text: str, source: str
) -> tuple[dict[tuple[str, tuple[str, ...]], list[str]], list[str]]:
    keys: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    pos = 0
    while True:
        if not text[pos:].strip():
            raise SourceError(
                source,
                "no DATA section: this is not a complete PC-Axis file",
                hint="A PX file ends with DATA= followed by the values and ';'.",
            )
        key = _KEY.match(text, pos)
        if key is None:
            raise _syntax_error(text, pos, source, "expected KEYWORD=value;")
        keyword, language, args = key.group(1).upper(), key.group(2), key.group(3)
        if keyword == "DATA":
            return keys, _data(text, key.end(), source)
        value = _VALUE.match(text, key.end())
        if value is None:
            raise _syntax_error(
                text, pos, source, f"{keyword} is not closed by ';' (or a quote is unbalanced)"
            )
        items = _items(value.group(0)[:-1], keyword, text, pos, source)
        if language is None:
            keys[(keyword, tuple(_items(args or "", keyword, text, pos, source)))] = items
        pos = value.end()


def _items(value: str, keyword: str, text: str, pos: int, source: str) -> list[str]:
    """Split a value into list items; adjacent quoted strings concatenate."""
    items: list[str] = []
    current: str | None = None
    quoted_last = False
    for m in _ITEM.finditer(value):
        quoted, comma, bare = m.groups()
        if comma:
            if current is not None:
                items.append(current)
            current, quoted_last = None, False
            continue
        if bare is not None and "=" in bare:
            raise _syntax_error(text, pos, source, f"{keyword} is not closed by ';'")
        token = quoted if quoted is not None else bare
        if current is not None and quoted is not None and quoted_last:
            current += token
        else:
            if current is not None:
                items.append(current)
            current = token
        quoted_last = quoted is not None
    if current is not None:
        items.append(current)
    return items


def _data(text: str, start: int, source: str) -> list[str]:
    end = text.find(";", start)
    if end < 0:
        raise SourceError(
            source,
            "DATA is not closed by ';': the file looks truncated",
            examples=[text[start:].strip().splitlines()[-1][-80:] if text[start:].strip() else ""],
        )
    if text[end + 1 :].strip():
        raise _syntax_error(text, end + 1, source, "unexpected text after the DATA section")
    tokens = _DATA_TOKEN.finditer(text, start, end)
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in tokens]


def _syntax_error(text: str, pos: int, source: str, what: str) -> SourceError:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    line_no = text.count("\n", 0, pos) + 1
    line = text[text.rfind("\n", 0, pos) + 1 :].split("\n", 1)[0]
    return SourceError(source, f"malformed PC-Axis at line {line_no}: {what}", examples=[line])


def px_cube(px: PxFile) -> Cube:
    """Turn the parsed statements into a :class:`Cube`."""
    source = px.source
    if any(keyword == "KEYS" for keyword, _ in px.keys):
        raise SourceError(source, "the sparse KEYS layout of PC-Axis is not supported")
    stub = px.get("STUB") or []
    heading = px.get("HEADING") or []
    variables = [*stub, *heading]
    if not variables:
        raise SourceError(source, "neither STUB nor HEADING names any variable")
    dims = tuple(_dimension(px, name) for name in variables)
    expected = 1
    for d in dims:
        expected *= d.size
    if len(px.data) != expected:
        shape = " × ".join(f"{d.size} {d.name}" for d in dims)
        raise SourceError(
            source,
            f"DATA has {len(px.data)} values but STUB and HEADING ({shape}) need {expected}",
            examples=px.data[:5],
        )
    missing = MISSING_MARKERS | {
        symbol for kw in _DATA_SYMBOLS if (symbol := px.first(kw)) is not None
    }
    values, bad = parse_values(pl.Series("value", px.data, dtype=pl.String), missing=missing)
    if bad.any():
        positions = bad.arg_true().head(5).to_list()
        raise SourceError(
            source,
            f"DATA has {int(bad.sum())} value(s) that are not numbers",
            examples=[f"{px.data[i]!r} at {_cell(dims, i)}" for i in positions],
        )
    time = next((args[0] for (kw, args) in px.keys if kw == "TIMEVAL" and args), None)
    return Cube(
        source=source,
        dimensions=dims,
        values=values,
        time=time,
        metric=px.first("CONTVARIABLE"),
        title=px.first("CONTENTS") or px.first("TITLE"),
    )


def _dimension(px: PxFile, name: str) -> Dimension:
    values = px.get("VALUES", name)
    if not values:
        raise SourceError(px.source, f'VALUES("{name}") is missing or empty', column=name)
    codes = px.get("CODES", name) or values
    if len(codes) != len(values):
        raise SourceError(
            px.source,
            f'CODES("{name}") has {len(codes)} items but VALUES("{name}") has {len(values)}',
            column=name,
        )
    return Dimension(name=name, codes=tuple(codes), labels=tuple(values))


def _cell(dims: Sequence[Dimension], index: int) -> str:
    parts = []
    for d in reversed(dims):
        index, i = divmod(index, d.size)
        parts.append(f"{d.name}={d.labels[i]}")
    return ", ".join(reversed(parts))
