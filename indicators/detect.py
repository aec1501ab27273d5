"""Which reader a file needs, from its extension and a look at its first lines.

Extensions decide where they are unambiguous (``.px``, ``.json``, ``.parquet``); a ``.csv``
is told apart by its header: the five long-form columns, the monthly municipality table's
``month,municipality``, Paavo's ``"Postal code area"``, or a PxWeb header of periods.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from features.errors import SourceError
from features.text import read_bytes
from indicators.labels import normalize_period
from indicators.schema import LONG_COLUMNS

KINDS: tuple[str, ...] = ("paavo", "pxweb_csv", "pcaxis", "jsonstat", "tyonv_monthly", "long")

_PX_START = re.compile(
    r"^\s*(CHARSET|AXIS-VERSION|CODEPAGE|LANGUAGE|CREATION-DATE|MATRIX|DECIMALS)\s*="
)
_PAAVO_FIRST_COLUMN = frozenset({"postal code area", "postinumeroalue", "postnummerområde"})


def detect_kind(path: Path) -> str:
    """Return one of :data:`KINDS` for ``path``, or raise SourceError naming what was seen."""
    suffix = path.suffix.lower()
    head = read_bytes(path, limit=16384)
    if suffix == ".px":
        return "pcaxis"
    if suffix in {".json", ".jsonstat"}:
        return "jsonstat"
    if suffix in {".parquet", ".pq"}:
        return "long"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.lstrip().startswith(("{", "[")):
        return "jsonstat"
    if _PX_START.match(text) or re.search(r"^\s*DATA\s*=", text, re.MULTILINE):
        return "pcaxis"
    lines = text.split("\n")
    if len(head) == 16384:
        lines = lines[:-1]  # the last line may be cut short
    lines = [line for line in lines if line.strip()][:30]
    if not lines:
        raise SourceError(str(path), "has no text lines to recognise")
    first = _cells(lines[0])
    if len(set(LONG_COLUMNS) & set(first)) >= 3:  # the long reader names what is missing
        return "long"
    if {"month", "municipality"} <= set(first):
        return "tyonv_monthly"
    rows = [_cells(line) for line in lines]
    if any(r and r[0] in _PAAVO_FIRST_COLUMN for r in rows):
        return "paavo"
    if any(_period_header(r) for r in rows):
        return "pxweb_csv"
    raise SourceError(
        str(path),
        "unknown format: not PC-Axis, JSON-stat, Paavo, PxWeb CSV, the monthly municipality "
        "table or the long form",
        examples=lines[:3],
        hint="Pass kind= explicitly if the file is one of these.",
    )


def _cells(line: str) -> list[str]:
    delimiter = max((";", ",", "\t"), key=line.count)
    row = next(csv.reader([line], delimiter=delimiter), [])
    return [c.strip().casefold() for c in row]


def _period_header(row: list[str]) -> bool:
    """A PxWeb header: at most five label cells, then periods up to the last cell."""
    if not row or normalize_period(row[-1]) is None:
        return False
    return sum(1 for c in row if c and not normalize_period(c)) <= 5
