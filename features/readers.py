"""Read a tabular source as partners send it: Parquet, or CSV the way Finnish offices export.

A source named ``x`` is ``x.parquet``, ``x.csv`` or a folder ``x/`` of parts. CSV is read
as text (every column a string) so that the contract, not the reader, decides types and
can say which row and column is wrong; Parquet keeps its types. Every failure is a
:class:`~features.errors.SourceError` naming the file.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import polars as pl

from features.errors import SourceError
from features.spec import ReadSpec

SEPARATORS = (";", ",", "\t", "|")
BOM = codecs.BOM_UTF8


def locate(data_dir: Path, name: str, spec: ReadSpec) -> Path:
    """Find the file or folder of source ``name`` under ``data_dir``."""
    base = data_dir / (spec.path or name)
    if spec.path and base.exists():
        return base
    suffixes = {"auto": (".parquet", ".csv"), "csv": (".csv",), "parquet": (".parquet",)}
    candidates = [base.with_name(base.name + s) for s in suffixes[spec.format]]
    candidates.append(base)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    tried = ", ".join(str(c.relative_to(data_dir)) for c in candidates)
    raise SourceError(
        str(base),
        f"source `{name}` is missing: none of {tried} exists in {data_dir}.",
        hint="Check data_dir and the source's `path` in the configuration.",
    )


def read_source(path: Path, spec: ReadSpec) -> pl.DataFrame:
    """Read a file or a folder of parts into one frame (CSV columns as strings)."""
    if path.is_dir():
        parts = sorted(p for p in path.iterdir() if p.suffix in (".parquet", ".csv"))
        if not parts:
            raise SourceError(str(path), "the folder holds no .parquet or .csv parts.")
        frames = [read_file(p, spec) for p in parts]
        columns = frames[0].columns
        for part, frame in zip(parts[1:], frames[1:], strict=True):
            if frame.columns != columns:
                raise SourceError(
                    str(part),
                    f"this part's columns {frame.columns} differ from the first part's {columns}.",
                )
        return pl.concat(frames, how="vertical_relaxed")
    return read_file(path, spec)


def read_file(path: Path, spec: ReadSpec) -> pl.DataFrame:
    """Read one Parquet or CSV file."""
    if not path.is_file():
        raise SourceError(str(path), "the file does not exist.")
    if path.stat().st_size == 0:
        raise SourceError(str(path), "the file is empty (0 bytes).", hint="Ask for a new extract.")
    fmt = spec.format
    if fmt == "auto":
        fmt = "parquet" if path.suffix == ".parquet" else "csv"
    if fmt == "parquet":
        return _read_parquet(path)
    return read_csv_text(path, spec)


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except Exception as exc:  # polars raises several types for corrupt files
        raise SourceError(
            str(path),
            f"is not a readable Parquet file (truncated or corrupt): {_first_line(exc)}.",
            hint="Ask the partner to export the file again.",
        ) from None


def decode(raw: bytes, path: Path, encoding: str) -> str:
    """Decode bytes as configured; ``auto`` takes UTF-8 (BOM or not), else Windows-1252."""
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
        if encoding in ("auto", "utf-8"):
            encoding = "utf-8"
    if encoding == "auto":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("windows-1252", errors="replace")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(
            str(path),
            f"is not {encoding}: byte 0x{raw[exc.start]:02X} on line {line} cannot be decoded.",
            examples=[raw.splitlines()[line - 1][:120].decode(encoding, errors="replace")],
            hint="Set `encoding: windows-1252` (or `auto`) for this source.",
        ) from None


def sniff_separator(header: str, path: Path) -> str:
    """Pick the separator that splits the header into the most fields."""
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    if counts[best] == 0:
        return ","
    return best


def read_csv_text(path: Path, spec: ReadSpec) -> pl.DataFrame:
    """Read a CSV with every column as a string, after decoding and separator detection."""
    text = decode(path.read_bytes(), path, spec.encoding)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n", 1)
    header = lines[0]
    if not header.strip():
        raise SourceError(str(path), "the first line (the header) is empty.")
    sep = sniff_separator(header, path) if spec.separator == "auto" else spec.separator
    _check_field_counts(text, sep, path)
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            separator=sep,
            infer_schema=False,
        )
    except Exception as exc:
        raise SourceError(str(path), f"cannot be read as CSV: {_first_line(exc)}.") from None
    frame = frame.rename({c: c.strip() for c in frame.columns})
    if frame.height == 0:
        raise SourceError(
            str(path),
            "has a header but no rows.",
            examples=[header[:160]],
            hint="If the partner truly has nothing to send, leave the source out of the run.",
        )
    return frame


def _check_field_counts(text: str, sep: str, path: Path) -> None:
    """Refuse rows with another number of fields than the header (mixed separators).

    Lines holding quotes are left to the CSV parser, which knows quoted separators.
    """
    lines = pl.Series("line", text.split("\n")).to_frame().with_row_index("number", offset=1)
    counts = lines.filter(
        (pl.col("line") != "") & ~pl.col("line").str.contains('"', literal=True)
    ).with_columns(fields=pl.col("line").str.count_matches(sep, literal=True) + 1)
    if counts.is_empty():
        return
    expected = counts["fields"][0] if counts["number"][0] == 1 else None
    if expected is None:
        return
    bad = counts.filter(pl.col("fields") != expected).head(3)
    if bad.height:
        raise SourceError(
            str(path),
            f"rows have a different number of fields than the header ({expected}, "
            f"separator {sep!r}): mixed separators or a broken export.",
            examples=[f"line {n}: {line[:120]}" for n, line in bad.select("number", "line").rows()],
            hint="Re-export the file with one separator, or set `separator:` for this source.",
        )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
