"""The validation engine: a frame checked against its contract, row by row.

Validation runs in three steps and gives every refused row a reason a partner can act on:

1. **coercion**: text (CSV) or loosely typed Parquet becomes the contract's types; a value
   that is present but unreadable (``"31.02.2025"`` as a date, ``"inf"`` as a number)
   refuses its row;
2. **pandera** column checks (nullability, ranges, allowed values, patterns, keys) on the
   typed frame, with ``failure_cases`` naming the rows;
3. **row rules** that span columns (a consent expiring before it was given).

A partner's row about anyone outside its **request** of the day
(:func:`features.requests.partner_requests`) is refused, "not in the partner's request of
D", never used, and not counted towards the bad-row limit (over-delivery, not a broken
extract); rows of erased or withdrawn persons are dropped unkept.

Exact duplicate rows of event-like sources are dropped and counted, not refused. The
contracts themselves (what is checked) are declared in :mod:`features.contracts`; example
rows in messages are described by :func:`features.describe.describe_row`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from features.contracts import Contract
from features.describe import EXAMPLES, describe_row, is_identifier, row_label
from features.errors import SourceError
from features.requests import REQUEST_REASON, Request

_NO_REASONS = {"_row": pl.Int64, "column": pl.String, "reason": pl.String}
# What a partner or operator is told when columns are missing: where the columns are
# declared, and how to check every source before a run.
CONTRACT_HINT = (
    "Column names must match the source's data contract: the columns are declared in "
    "features/contracts.py, and `ennakko validate` checks every source before a run "
    '(docs/runbook.md, "When a nightly run fails").'
)


@dataclass
class Validated:
    """A validated source: the rows to use, the refused rows with reasons, and counts.

    ``bad`` holds ``row`` (1-based data row of the source, header not counted), the
    contract's columns as read (text) and ``reason``.
    """

    source: str
    good: pl.DataFrame
    bad: pl.DataFrame
    rows_read: int
    duplicates_dropped: int = 0
    warnings: list[str] = field(default_factory=list)
    vault: bool = False
    where: Callable[[int], str] = row_label
    personal: frozenset[str] = frozenset()
    outside_request: int = 0  # refused only for not being in the partner's request

    @property
    def contract_refused(self) -> int:
        """Rows refused for breaking the contract (what the bad-row policy counts)."""
        return self.bad.height - self.outside_request

    def contract_view(self) -> Validated:
        """The same result with only the contract's refusals (what the bad-row policy and
        its message are about): rows outside a partner's request left out."""
        if not self.outside_request:
            return self
        parts = (
            pl.col("reason")
            .str.split("; ")
            .list.eval(
                pl.element().filter(~pl.element().str.contains(REQUEST_REASON, literal=True))
            )
        )
        bad = self.bad.with_columns(reason=parts.list.join("; ")).filter(pl.col("reason") != "")
        return replace(self, bad=bad, outside_request=0)

    @property
    def bad_share(self) -> float:
        return self.contract_refused / self.rows_read if self.rows_read else 0.0

    def reasons(self) -> dict[str, int]:
        """Refused rows by reason, most frequent first (ties: the reason met first).

        A row with several reasons counts under each.
        """
        if self.bad.is_empty():
            return {}
        counts = (
            self.bad.select(pl.col("reason").str.split("; ").alias("r"))
            .explode("r")
            .with_row_index("order")
            .group_by("r")
            .agg(pl.len(), pl.col("order").min())
            .sort(["len", "order"], descending=[True, False])
        )
        return dict(zip(counts["r"].to_list(), counts["len"].to_list(), strict=True))

    def examples(self, n: int = EXAMPLES) -> list[str]:
        """The first ``n`` refused rows, described without pseudonyms or identifiers."""
        out = []
        for row in self.bad.head(n).iter_rows(named=True):
            values = {k: v for k, v in row.items() if k not in ("row", "reason")}
            out.append(
                describe_row(
                    values,
                    self.where(row["row"] - 1),
                    row["reason"],
                    vault=self.vault,
                    personal=self.personal,
                )
            )
        return out


def validate(
    frame: pl.DataFrame,
    contract: Contract,
    *,
    source: str,
    decimal: str = "auto",
    date_format: str = "auto",
    header: Sequence[str] | None = None,
    where: Callable[[int], str] = row_label,
    request: Request | None = None,
) -> Validated:
    """Check ``frame`` against ``contract``; raise only when the source is unusable as a whole.

    Parameters
    ----------
    header
        Every column the file had, when the reader left some unread (identifier-like or
        outside the contract); default ``frame.columns``.
    where
        Describes a 0-based row position for messages (``"row 12"``,
        ``"part-002.parquet row 5"``).
    request
        For a partner source: whose rows the partner was asked for (see module doc).

    Raises
    ------
    SourceError
        When required columns are missing or a column holds nested values.
    """
    header = list(frame.columns if header is None else header)
    warnings = column_warnings(header, contract)
    _refuse_missing(frame, contract, source, header, where)
    _refuse_nested(frame, contract, source)
    raw = frame.select(
        pl.col(c.name) if c.name in frame.columns else pl.lit(None).alias(c.name)
        for c in contract.columns
    )
    typed, unreadable = _coerce(raw, contract, decimal, date_format)
    # A value that could not be read is null now: its column's checks would only repeat that.
    checked = _pandera_failures(typed, contract, source).join(
        unreadable, on=["_row", "column"], how="anti"
    )
    failures = [f for f in (unreadable, checked, _rule_failures(typed, contract)) if f.height]
    if request is not None:
        failures.append(_request_failures(typed, request))
    good, bad, personal = _split_rows(raw, typed, failures, contract)
    outside = 0
    if request is not None:
        good, bad, outside, dropped = _apply_request(good, bad, request)
        if dropped:
            warnings.append(f"{dropped:,} rows of erased or withdrawn persons dropped, not kept")
    duplicates = 0
    if contract.dedupe:
        good, duplicates = drop_exact_duplicates(good)
        if duplicates:
            warnings.append(f"{duplicates:,} exact duplicate rows dropped")
    return Validated(
        source=source,
        good=good,
        bad=bad,
        rows_read=frame.height,
        duplicates_dropped=duplicates,
        warnings=warnings,
        vault=contract.vault,
        where=where,
        personal=personal,
        outside_request=outside,
    )


def _request_failures(typed: pl.DataFrame, request: Request) -> pl.DataFrame:
    """Rows of persons outside the request (erased ones are dropped later, not refused)."""
    known = sorted(request.persons | request.erased)
    outside = pl.col("person_id").is_not_null() & ~pl.col("person_id").is_in(known)
    positions = typed.select(pl.arg_where(outside)).to_series()
    return _reasons_at(positions, "person_id", request.reason)


def _apply_request(
    good: pl.DataFrame, bad: pl.DataFrame, request: Request
) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    """Drop erased persons' rows from both frames; count rows refused only as outside."""
    dropped = 0
    if request.erased:
        erased = sorted(request.erased)
        before = good.height + bad.height
        good = good.filter(~pl.col("person_id").is_in(erased))
        bad = bad.filter(~pl.col("person_id").is_in(erased).fill_null(False))
        dropped = before - good.height - bad.height
    only = f"person_id: {request.reason}"
    return good, bad, int((bad["reason"] == only).sum()), dropped


def _refuse_missing(
    frame: pl.DataFrame,
    contract: Contract,
    source: str,
    header: list[str],
    where: Callable[[int], str],
) -> None:
    """Refuse a source lacking a required column, naming what the file has instead."""
    missing = [c.name for c in contract.columns if c.required and c.name not in frame.columns]
    if not missing:
        return
    present = [c for c in contract.names if c in frame.columns]
    if present or not header:
        has = f"the file has {', '.join(header) or 'no columns'}"
    else:  # a first line of data read as the header: its cells are not column names
        has = (
            f"none of the contract's columns is among the file's {len(header)}, whose names "
            "are not shown: the first line may be data rather than a header"
        )
    raise SourceError(
        source,
        f"missing required column(s) {', '.join(missing)}; {has}.",
        column=missing[0],
        examples=[]
        if contract.vault or not present
        else [
            describe_row(row, where(i), personal=contract.personal)
            for i, row in enumerate(frame.select(present).head(2).iter_rows(named=True))
        ],
        hint=CONTRACT_HINT,
    )


def _split_rows(
    raw: pl.DataFrame, typed: pl.DataFrame, failures: list[pl.DataFrame], contract: Contract
) -> tuple[pl.DataFrame, pl.DataFrame, frozenset[str]]:
    """The typed rows without a reason, the refused rows as read with their reasons, and
    the columns of the refused rows whose values are never shown."""
    if failures:
        by_row = (
            pl.concat(failures, how="vertical")
            .group_by("_row")
            .agg(pl.col("reason").unique(maintain_order=True).str.join("; "))
            .sort("_row")
        )
        positions = by_row["_row"]
        keep = np.ones(raw.height, dtype=bool)
        keep[positions.to_numpy()] = False
        good = typed.filter(pl.Series(keep))
    else:
        positions = pl.Series("_row", [], dtype=pl.Int64)
        by_row = pl.DataFrame(schema=_NO_REASONS)
        good = typed
    # A contract column called like one of bad's own (`row`, `reason`) keeps its value
    # under another name, and stays personal if it was.
    clash = {c: f"{c}_value" for c in ("row", "reason") if c in raw.columns}
    personal = contract.personal | {new for old, new in clash.items() if old in contract.personal}
    bad = pl.concat(
        [
            (positions + 1).alias("row").to_frame(),
            raw.select(pl.all().gather(positions).cast(pl.String)).rename(clash),
            by_row.select("reason"),
        ],
        how="horizontal",
    )
    return good, bad, personal


def column_warnings(columns: Sequence[str], contract: Contract) -> list[str]:
    """Warnings for columns outside the contract; identifier-like ones are named as such."""
    extra = [c for c in columns if c not in contract.names]
    warnings = []
    identifiers = [c for c in extra if is_identifier(c)]
    if identifiers:
        warnings.append(
            f"column(s) {', '.join(identifiers)} look like direct identifiers and were dropped "
            "at the door, unread; ask the partner to stop sending them"
        )
    others = [c for c in extra if c not in identifiers]
    if others:
        warnings.append(f"column(s) {', '.join(others)} are not in the contract and were ignored")
    return warnings


def drop_exact_duplicates(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Keep the first of identical rows, in order; return the frame and how many went.

    Rows are hashed and only rows whose hash repeats are compared exactly, which is far
    cheaper than ``unique`` over tens of millions of rows with text columns.
    """
    if frame.height < 2:
        return frame, 0
    hashes = frame.hash_rows(seed=20251)
    ordered = np.sort(hashes.to_numpy())
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if not repeated.size:
        return frame, 0
    candidates = hashes.is_in(pl.Series(repeated).implode()).arg_true()
    first = (
        frame.select(pl.all().gather(candidates))
        .select(pl.struct(pl.all()).is_first_distinct())
        .to_series()
    )
    drop = candidates.filter(~first)
    if drop.is_empty():
        return frame, 0
    keep = np.ones(frame.height, dtype=bool)
    keep[drop.to_numpy()] = False
    return frame.filter(pl.Series(keep)), drop.len()


def _refuse_nested(frame: pl.DataFrame, contract: Contract, source: str) -> None:
    for col in contract.columns:
        dtype = frame.schema.get(col.name)
        if dtype is not None and (dtype.is_nested() or dtype in (pl.Binary, pl.Object)):
            raise SourceError(
                source,
                f"column {col.name} holds values of type {dtype}, which cannot be read as "
                f"{_type_word(col.dtype)}.",
                column=col.name,
                hint="Export plain values (text, numbers, dates), one per cell.",
            )


def _target(dtype) -> pl.DataType:
    return dtype if isinstance(dtype, pl.DataType) else dtype()


def _coerce(
    raw: pl.DataFrame, contract: Contract, decimal: str, date_format: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast to the contract's types; report present-but-unreadable values by position."""
    exprs, checked = [], []
    for col in contract.columns:
        src, target = raw.schema[col.name], _target(col.dtype)
        cast = _cast(pl.col(col.name), src, target, decimal, date_format, col.zero_pad)
        exprs.append((_label(cast) if col.label else cast).alias(col.name))
        if src != pl.Null and (src != target or target.is_float()):
            checked.append(col)
    typed = raw.select(exprs)
    failures = []
    for col in checked:
        values = raw[col.name]
        present = values.is_not_null()
        if values.dtype == pl.String:
            present = present & (values != "")
        positions = (present & typed[col.name].is_null()).arg_true()
        if positions.len():
            reason = f"cannot be read as {_type_word(col.dtype)}"
            failures.append(_reasons_at(positions, col.name, reason))
    return typed, pl.concat(failures) if failures else pl.DataFrame(schema=_NO_REASONS)


def _reasons_at(positions: pl.Series, column: str, what: str) -> pl.DataFrame:
    return (
        positions.cast(pl.Int64)
        .alias("_row")
        .to_frame()
        .with_columns(column=pl.lit(column), reason=pl.lit(f"{column}: {what}"))
    )


def _label(expr: pl.Expr) -> pl.Expr:
    """A label as file names will hold it: trimmed, Unicode NFC, lower case."""
    return expr.str.strip_chars().str.normalize("NFC").str.to_lowercase()


def _finite(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.is_finite()).then(expr).otherwise(None)


def _cast(
    expr: pl.Expr,
    src: pl.DataType,
    target: pl.DataType,
    decimal: str,
    date_format: str,
    zero_pad: int | None,
) -> pl.Expr:
    if src == pl.String:
        # Readers trim CSV cells; a Parquet string is taken as it is, "" counting as empty.
        text = pl.when(expr == "").then(None).otherwise(expr)
        if target == pl.Date:
            iso = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
            fi = text.str.to_date("%d.%m.%Y", strict=False)
            return {"iso": iso, "fi": fi}.get(date_format, pl.coalesce(iso, fi))
        if target.is_numeric():
            number = text.str.replace_all(r"[\s\u00a0]", "")
            if decimal in (",", "auto"):
                number = number.str.replace(",", ".", literal=True)
            value = _finite(number.cast(pl.Float64, strict=False))
            if target.is_integer():
                return pl.when(value == value.round()).then(value).cast(target, strict=False)
            return value.cast(target, strict=False)
        return text.cast(target, strict=False)
    if src == target:
        return _finite(expr) if target.is_float() else expr
    if target == pl.String:
        text = expr.cast(pl.String, strict=False)
        return text.str.zfill(zero_pad) if zero_pad and src.is_integer() else text
    if target == pl.Date:
        if isinstance(src, pl.Datetime):
            return expr.cast(pl.Date)
        return (
            expr.cast(pl.String, strict=False)
            .str.slice(0, 10)
            .str.to_date("%Y-%m-%d", strict=False)
        )
    if target.is_integer() and src.is_float():
        whole = _finite(expr)
        return pl.when(whole == whole.round()).then(whole).cast(target, strict=False)
    casted = expr.cast(target, strict=False)
    return _finite(casted) if target.is_float() else casted


def _type_word(dtype) -> str:
    target = _target(dtype)
    if target == pl.Date:
        return "a date (yyyy-mm-dd or dd.mm.yyyy)"
    if target.is_integer():
        return "a whole number"
    if target.is_numeric():
        return "a finite number"
    return "text"


def _pandera_failures(typed: pl.DataFrame, contract: Contract, source: str) -> pl.DataFrame:
    """Column checks by pandera on the typed frame, data included whatever the environment says."""
    schema = pa.DataFrameSchema(
        {
            c.name: pa.Column(
                c.dtype, checks=list(c.checks), nullable=c.nullable, unique=c.unique, coerce=False
            )
            for c in contract.columns
        },
        strict=False,
    )
    try:
        with config_context(
            validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA
        ):
            schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        unplaced = cases.filter(pl.col("index").is_null())
        if unplaced.height:
            checks = sorted(
                {f"{c}: {_check_words(k)}" for c, k in unplaced.select("column", "check").rows()}
            )
            raise SourceError(
                source,
                f"does not match its contract as a whole: {'; '.join(checks)}.",
                column=unplaced["column"][0],
            ) from None
        words = {c: _check_words(c) for c in cases["check"].unique().to_list()}
        return cases.select(
            pl.col("index").cast(pl.Int64).alias("_row"),
            pl.col("column").cast(pl.String),
            (pl.col("column") + pl.lit(": ") + pl.col("check").replace(words)).alias("reason"),
        )
    return pl.DataFrame(schema=_NO_REASONS)


def _check_words(check: str) -> str:
    """Plain words for pandera's check names (checks with an ``error`` text keep it)."""
    if check == "not_nullable":
        return "empty"
    if check == "field_uniqueness":
        return "duplicate value"
    if check.startswith("isin("):
        return "not an allowed value " + check[4:]
    if check.startswith("str_matches("):
        return "wrong format"
    return check


def _rule_failures(typed: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    frames = []
    for rule in contract.rules:
        positions = typed.select(pl.arg_where(rule.ok.not_().fill_null(False))).to_series()
        if positions.len():
            frames.append(_reasons_at(positions, rule.column, rule.message))
    return pl.concat(frames) if frames else pl.DataFrame(schema=_NO_REASONS)
