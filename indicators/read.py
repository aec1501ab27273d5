"""One entry point for every indicator format, and conversion of many files to one Parquet."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from features.errors import SourceError
from indicators.detect import KINDS, detect_kind
from indicators.jsonstat import read_jsonstat
from indicators.long import read_long
from indicators.paavo import read_paavo
from indicators.pcaxis import read_pcaxis
from indicators.pxweb import read_pxweb_csv
from indicators.schema import KEY_COLUMNS, sort_long
from indicators.table import IndicatorTable, ReadReport
from indicators.tyonv import read_tyonv_monthly

_READERS: dict[str, Callable[..., IndicatorTable]] = {
    "paavo": read_paavo,
    "pxweb_csv": read_pxweb_csv,
    "pcaxis": read_pcaxis,
    "jsonstat": read_jsonstat,
    "tyonv_monthly": read_tyonv_monthly,
    "long": read_long,
}


def read_indicators(
    path: str | os.PathLike[str], *, kind: str = "auto", encoding: str | None = None
) -> IndicatorTable:
    """Read one indicator file into the validated long form.

    Parameters
    ----------
    path
        The file.
    kind
        ``"auto"`` (from the extension and the first lines) or one of ``"paavo"``,
        ``"pxweb_csv"``, ``"pcaxis"``, ``"jsonstat"``, ``"tyonv_monthly"``, ``"long"``.
    encoding
        Force a text encoding; by default each format's own rules apply.

    Returns
    -------
    IndicatorTable
        ``.data`` (area_code, area_level, period, indicator, value) and ``.report`` (rows,
        dropped missing cells, original labels, notes).

    Raises
    ------
    SourceError
        For any file that cannot be read as the long form, naming the file.
    """
    path = Path(path)
    source = str(path)
    if kind != "auto" and kind not in KINDS:
        raise SourceError(
            source, f"unknown kind {kind!r}", hint=f"Use auto or one of {', '.join(KINDS)}."
        )
    resolved = detect_kind(path) if kind == "auto" else kind
    try:
        return _READERS[resolved](path, encoding=encoding)
    except SourceError:
        raise
    except (
        UnicodeError,
        LookupError,
        ValueError,
        TypeError,
        ArithmeticError,
        pl.exceptions.PolarsError,
    ) as err:
        # A malformed file the reader did not foresee: still one clear domain error.
        raise SourceError(
            source, f"cannot be read as {resolved}: {type(err).__name__}: {err}"
        ) from err


@dataclass(frozen=True)
class ConvertSummary:
    """What :func:`convert` wrote."""

    out_path: Path
    rows: int
    files: tuple[ReadReport, ...]

    @property
    def dropped_missing(self) -> int:
        """Missing cells dropped over all files."""
        return sum(f.dropped_missing for f in self.files)

    def rows_per_file(self) -> dict[str, int]:
        """Rows contributed by each file."""
        return {f.source: f.rows for f in self.files}


def convert(
    paths: Iterable[str | os.PathLike[str]],
    out_path: str | os.PathLike[str],
    *,
    kind: str = "auto",
) -> ConvertSummary:
    """Read every file, concatenate the long forms and write them to one Parquet file.

    Rows are sorted by area_level, area_code, indicator, period, so the same inputs always
    give the same file. A key present in two files is refused (SourceError naming both
    files). The Parquet file is written atomically: a reader sees the old file or the new one.
    """
    tables = [read_indicators(p, kind=kind) for p in paths]
    if not tables:
        raise SourceError(str(out_path), "no input files to convert")
    tagged = [t.data.with_columns(_file=pl.lit(t.report.source)) for t in tables]
    combined = pl.concat(tagged)
    dupes = combined.filter(pl.struct(list(KEY_COLUMNS)).is_duplicated())
    if dupes.height:
        files = sorted(set(dupes.get_column("_file").to_list()))
        raise SourceError(
            ", ".join(files),
            f"{dupes.height} rows share (area_code, area_level, period, indicator) "
            "across these files",
            examples=dupes.drop("_file").head(5).to_dicts(),
            hint="Convert each file separately or drop the overlapping one.",
        )
    data = sort_long(combined.drop("_file"))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out.parent, suffix=".parquet.tmp", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        data.write_parquet(tmp_path)
        os.replace(tmp_path, out)
    finally:
        tmp_path.unlink(missing_ok=True)
    return ConvertSummary(out_path=out, rows=data.height, files=tuple(t.report for t in tables))
