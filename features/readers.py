"""Read a tabular source as partners send it: Parquet, or CSV the way Finnish offices export.

A source named ``x`` is ``x.parquet``, ``x.csv`` or a folder ``x/`` of parts, and never
a file beside a folder (the folder would silently go unread: refused). CSV is read
as text (every column a string) so that the contract, not the reader, decides types and
can say which row and column is wrong; Parquet keeps its types. Given a contract, only
the contract's columns are read: anything else, above all a column that looks like a
direct identifier (``hetu``, ``nimi``, ...), is dropped at the door unread and only its
name is reported.

Two guards come before any parsing. A CSV above the source's ``max_csv_mb`` is refused
unread: it is decoded whole in memory, several times its size, so a 2 GB export would end
the run out of memory; Parquet or a folder of parts is the way for large extracts. And a
CSV whose encoding is ``auto`` is read as UTF-8, or as Windows-1252 when no line is UTF-8;
a file mixing the two (one line typed in Excel among UTF-8 lines) is refused naming the
line, since reading it either way silently corrupts ä and ö (``itäinen`` would become a new
team ``itÃ¤inen``).

Every failure is a :class:`~features.errors.SourceError` naming the file; messages never
quote a pseudonym or an identifier (see :func:`features.describe.describe_row`); decoding and
separator sniffing live in :mod:`features.text`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from features.contracts import Contract
from features.describe import row_label
from features.errors import SourceError
from features.spec import ReadSpec
from features.text import decode_extract, normalise_newlines, sniff_separator

PARQUET_MAGIC = b"PAR1"
SUFFIXES = {"auto": (".parquet", ".csv"), "csv": (".csv",), "parquet": (".parquet",)}
MB = 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One file of a source: its name and rows; for CSV the file line of each row.

    ``lines`` holds 1-based file line numbers (the header is line 1) when they are known,
    ``first_line`` the line of the first row when rows follow lines one to one.
    """

    name: str
    rows: int
    first_line: int | None = None
    lines: np.ndarray | None = None

    def label(self, index: int) -> str:
        """``"row 12"`` (data rows from 1) plus the file line for CSV: ``"row 12 (line 13)"``."""
        text = row_label(index)
        if self.lines is not None:
            return f"{text} (line {int(self.lines[index])})"
        if self.first_line is not None:
            return f"{text} (line {self.first_line + index})"
        return text


@dataclass
class Table:
    """What was read: the frame, every column the file had, its parts and reading notes."""

    path: Path
    frame: pl.DataFrame
    header: list[str]
    parts: tuple[Part, ...]
    notes: list[str] = field(default_factory=list)

    def where(self, index: int) -> str:
        """Where the 0-based row ``index`` of the frame is, in words a partner can find."""
        return Locator(self.parts).where(index)

    def locator(self) -> Locator:
        """The row locator alone, without the frame (reports keep it after reading)."""
        return Locator(self.parts)


@dataclass(frozen=True)
class Locator:
    parts: tuple[Part, ...]

    def where(self, index: int) -> str:
        offset = 0
        for part in self.parts:
            if index < offset + part.rows:
                label = part.label(index - offset)
                return f"{part.name} {label}" if len(self.parts) > 1 else label
            offset += part.rows
        return row_label(index)


def source_exists(data_dir: Path, name: str, spec: ReadSpec) -> bool:
    """Whether source ``name`` was sent at all (for optional sources: absent is no rows)."""
    base = data_dir / (spec.path or name)
    if spec.path:
        return base.exists()
    return any(
        c.exists() for c in (*(base.with_name(base.name + s) for s in SUFFIXES[spec.format]), base)
    )


def locate(data_dir: Path, name: str, spec: ReadSpec) -> Path:
    """Find the file or folder of source ``name`` under ``data_dir``."""
    if not data_dir.is_dir():
        raise SourceError(
            str(data_dir),
            f"the data folder does not exist, so source `{name}` cannot be read.",
            hint="Check data_dir in the configuration (or ENNAKKO_DATA_DIR); "
            "for the demo, `make demo` creates it.",
        )
    base = data_dir / (spec.path or name)
    if spec.path and base.exists():
        return base
    candidates = [base.with_name(base.name + s) for s in SUFFIXES[spec.format]]
    candidates.append(base)
    found = [c for c in candidates if c.exists()]
    if len(found) > 1 and base.is_dir():
        # A file would be read and the folder's parts (a portal's export among them)
        # silently never: refuse rather than guess which one is meant.
        raise SourceError(
            str(base),
            f"source `{name}` is both a file and a folder of parts: "
            f"{' and '.join(str(f) for f in found)}; only one of them can be read.",
            hint=f"Move the file into the folder as a part (e.g. {base}/register.parquet) "
            "or remove whichever is stale.",
        )
    if found:
        return found[0]
    tried = ", ".join(_relative(c, data_dir) for c in candidates)
    folder = "" if base.parent.is_dir() else f" The folder {base.parent} itself is missing."
    raise SourceError(
        str(base),
        f"source `{name}` is missing: none of {tried} exists in {data_dir}.{folder}",
        hint="Check data_dir and the source's `path` in the configuration.",
    )


def read_source(path: Path, spec: ReadSpec) -> pl.DataFrame:
    """Read a file or a folder of parts into one frame (CSV columns as strings)."""
    return read_table(path, spec).frame


def read_table(path: Path, spec: ReadSpec, contract: Contract | None = None) -> Table:
    """Read a file or a folder of parts; with a contract, only the contract's columns.

    Raises
    ------
    SourceError
        For a missing, empty, unreadable or header-only file, a folder without parts or
        with parts of different columns, an undecodable or ragged CSV.
    """
    wanted = None if contract is None else set(contract.names)
    vault = contract is not None and contract.vault
    personal = frozenset() if contract is None else contract.personal
    if not path.is_dir():
        table = read_file(path, spec, wanted, vault=vault, personal=personal)
        _refuse_no_rows(table, wanted)
        return table
    suffixes = SUFFIXES[spec.format]
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith((".", "_"))
    )
    if not files:
        raise SourceError(
            str(path),
            f"the folder holds no {' or '.join(suffixes)} parts.",
            hint="A source folder holds the parts of one extract, all with the same columns.",
        )
    for file in files:  # every part's size before reading any
        if spec.format != "parquet" and file.suffix.lower() == ".csv":
            refuse_large_csv(file, spec)
    tables = [
        read_file(p, spec, wanted, vault=vault, personal=personal, part=p.name) for p in files
    ]
    first = tables[0]
    for table in tables[1:]:
        if set(table.header) != set(first.header):
            extra = [c for c in table.header if c not in first.header]
            lacking = [c for c in first.header if c not in table.header]
            diff = "; ".join(
                text
                for text in (
                    f"it has {', '.join(extra)} too" if extra else "",
                    f"it lacks {', '.join(lacking)}" if lacking else "",
                )
                if text
            )
            raise SourceError(
                str(table.path),
                f"this part's columns differ from those of the first part {first.path.name}: "
                f"{diff}.",
                column=(extra or lacking)[0],
                hint="Every part of a source must have the same columns; export them again.",
            )
    try:
        frames = _align([t.frame for t in tables])
        frame = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    except Exception as exc:  # types that no cast reconciles
        raise SourceError(
            str(path),
            f"the parts' columns have types that do not fit together: {_first_line(exc)}.",
            hint="Every part of a source must have the same columns and types.",
        ) from None
    combined = Table(
        path=path,
        frame=frame,
        header=first.header,
        parts=tuple(p for t in tables for p in t.parts),
        notes=[n for t in tables for n in t.notes],
    )
    _refuse_no_rows(combined, wanted)
    return combined


def read_file(
    path: Path,
    spec: ReadSpec,
    wanted: set[str] | None = None,
    *,
    vault: bool = False,
    personal: frozenset[str] = frozenset(),
    part: str | None = None,
) -> Table:
    """Read one Parquet or CSV file (rows are not required here: a part may be empty)."""
    if not path.is_file():
        raise SourceError(str(path), "the file does not exist.")
    if path.stat().st_size == 0:
        raise SourceError(str(path), "the file is empty (0 bytes).", hint="Ask for a new extract.")
    fmt = spec.format
    if fmt == "auto":
        with path.open("rb") as handle:
            magic = handle.read(4)
        fmt = "parquet" if path.suffix.lower() == ".parquet" or magic == PARQUET_MAGIC else "csv"
    name = part or path.name
    if fmt == "parquet":
        return _read_parquet(path, wanted, name)
    refuse_large_csv(path, spec)
    return read_csv_text(path, spec, wanted, vault=vault, personal=personal, part=name)


def refuse_large_csv(path: Path, spec: ReadSpec) -> None:
    """Refuse, unread, a CSV above ``spec.max_csv_mb``: it would be decoded whole in memory."""
    size = path.stat().st_size
    if size <= spec.max_csv_mb * MB:
        return
    raise SourceError(
        str(path),
        f"is a CSV of {size / MB:,.1f} MB ({size:,} bytes), above the limit of "
        f"{spec.max_csv_mb:,g} MB (`max_csv_mb`), so it was not read: a CSV is decoded whole "
        "in memory, several times its size.",
        hint="Ask the partner to send Parquet, or a folder of CSV parts each under the limit "
        "(the source's name as the folder); or raise `max_csv_mb` for this source if the "
        "machine has about five times the file's size in memory.",
    )


def _read_parquet(path: Path, wanted: set[str] | None, name: str) -> Table:
    try:
        header = list(pl.read_parquet_schema(path))
        stripped = _strip_names(header, path)
        columns = [h for h, s in zip(header, stripped, strict=True) if _wanted(s, wanted)]
        frame = pl.read_parquet(path, columns=columns) if columns else pl.DataFrame()
    except SourceError:
        raise
    except Exception as exc:  # polars raises several types for corrupt files
        raise SourceError(
            str(path),
            f"is not a readable Parquet file (truncated or corrupt): {_first_line(exc)}.",
            hint="Ask the partner to export the file again.",
        ) from None
    frame = frame.rename({c: c.strip() for c in frame.columns})
    return Table(path, frame, stripped, (Part(name, frame.height),))


def read_csv_text(
    path: Path,
    spec: ReadSpec,
    wanted: set[str] | None = None,
    *,
    vault: bool = False,
    personal: frozenset[str] = frozenset(),
    part: str | None = None,
) -> Table:
    """Read a CSV with every column as a string, after decoding and separator detection.

    Blank lines (and lines of separators only, as spreadsheets export empty rows) are
    skipped and counted in the notes; they are not rows.
    """
    raw = path.read_bytes()
    text, notes = decode_extract(raw, path, spec.encoding, vault=vault, personal=personal)
    text = normalise_newlines(text)
    header_line = text.split("\n", 1)[0]
    if not header_line.strip():
        raise SourceError(str(path), "the first line (the header) is empty.")
    sep = sniff_separator(header_line) if spec.separator == "auto" else spec.separator
    header = next(csv.reader([header_line], delimiter=sep), [])
    names = _strip_names(header, path)
    lines = pl.Series("line", text.split("\n")).to_frame().with_row_index("number", offset=1)
    blank = pl.col("line").str.strip_chars(" \t" + sep) == ""
    _check_field_counts(lines.filter(~blank), sep, len(header), path)
    kept = lines.filter(~blank | (pl.col("number") == 1))
    skipped = lines.height - kept.height - (1 if text.endswith("\n") else 0)
    if skipped:
        notes.append(f"{skipped} empty line(s) skipped")
        text = "\n".join(kept["line"].to_list())
    line_numbers = kept["number"].slice(1).to_numpy()
    columns = [h for h, n in zip(header, names, strict=True) if _wanted(n, wanted)]
    if not columns:
        frame = pl.DataFrame()
    else:
        try:
            frame = pl.read_csv(
                io.BytesIO(text.encode("utf-8")),
                separator=sep,
                infer_schema=False,
                columns=columns,
            )
        except Exception as exc:
            raise SourceError(str(path), f"cannot be read as CSV: {_first_line(exc)}.") from None
        frame = frame.rename({c: c.strip() for c in frame.columns}).with_columns(
            pl.all().str.strip_chars()
        )
    name = part or path.name
    if frame.height == len(line_numbers):
        info = Part(name, frame.height, lines=None if not skipped else line_numbers, first_line=2)
    else:  # quoted fields spanning lines: rows no longer follow lines
        info = Part(name, frame.height)
    return Table(path, frame, names, (info,), notes)


def _check_field_counts(lines: pl.DataFrame, sep: str, expected: int, path: Path) -> None:
    """Refuse rows with another number of fields than the header (mixed separators).

    Lines holding quotes are left to the CSV parser, which knows quoted separators. Only
    line numbers and counts are reported: a broken line cannot be split safely into values
    that may be shown.
    """
    counts = lines.filter(
        (pl.col("number") > 1) & ~pl.col("line").str.contains('"', literal=True)
    ).with_columns(fields=pl.col("line").str.count_matches(sep, literal=True) + 1)
    bad = counts.filter(pl.col("fields") != expected)
    if bad.height:
        shown = bad.head(3).select("number", "fields").rows()
        raise SourceError(
            str(path),
            f"{bad.height} row(s) have another number of fields than the header's {expected} "
            f"(separator {sep!r}): mixed separators or a broken export.",
            examples=[f"line {n} (row {n - 1}): {f} fields" for n, f in shown],
            hint="Re-export the file with one separator, or set `separator:` for this source.",
        )


def _strip_names(header: list[str], path: Path) -> list[str]:
    names = [h.strip() for h in header]
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise SourceError(
                str(path),
                f"the header names column {n!r} twice.",
                column=n,
                hint="Every column needs its own name.",
            )
        seen.add(n)
    return names


def _wanted(name: str, wanted: set[str] | None) -> bool:
    return wanted is None or name in wanted


def _align(frames: list[pl.DataFrame]) -> list[pl.DataFrame]:
    """Same column order in every part; a column typed differently across parts becomes text."""
    frames = [f for f in frames if f.width]
    if not frames:
        return []
    order = frames[0].columns
    frames = [f.select(order) for f in frames]
    mixed = [c for c in order if len({f.schema[c] for f in frames if f.height}) > 1]
    if mixed:
        frames = [f.with_columns(pl.col(mixed).cast(pl.String, strict=False)) for f in frames]
    return frames


def _refuse_no_rows(table: Table, wanted: set[str] | None = None) -> None:
    """Refuse a file with columns but no rows; its header is shown only if it is one.

    A one-line file without a header has its only row read as the header: when none of
    the contract's columns is in it, its cells may be personal data and are not shown.
    """
    if table.frame.height == 0 and table.frame.width:
        if table.path.is_dir():
            what = "has parts but no rows"
        elif table.path.suffix.lower() == ".parquet":
            what = "has columns but no rows"
        else:
            what = "has a header but no rows"
        real_header = wanted is None or bool(wanted & set(table.header))
        raise SourceError(
            str(table.path),
            f"{what}." if real_header else f"{what}, or a row but no header.",
            examples=[", ".join(table.header)[:160]] if real_header else [],
            hint="If the partner truly has nothing to send, leave the source out of the run.",
        )


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
