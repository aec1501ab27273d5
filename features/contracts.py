"""Data contracts of every source (DESIGN.md), checked on the data, row by row.

A contract is a list of columns with their types plus value checks. Validation runs in
three steps and gives every refused row a reason a partner can act on:

1. **coercion**: text (CSV) or loosely typed Parquet becomes the contract's types; a value
   that is present but unreadable (``"31.13.2025"`` as a date) refuses its row;
2. **pandera** column checks (nullability, ranges, allowed values, patterns, keys) on the
   typed frame, with ``failure_cases`` naming the rows;
3. **row rules** that span columns (a consent expiring before it was given).

Exact duplicate rows of event-like sources are dropped and counted, not refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandera.polars as pa
import polars as pl

from features.errors import SourceError

PSEUDONYM = r"^[A-Za-z0-9_-]{4,64}$"
LANGUAGES = ("fi", "sv", "en")
GENDERS = ("F", "M", "X")
DECISIONS = ("contacted", "not_reached", "declined", "not_appropriate", "helped_elsewhere")
CORE_PURPOSES = ("scoring", "contact")
EARLIEST = date(1990, 1, 1)
IDENTIFIER_HINTS = (
    "hetu",
    "henkilotunnus",
    "henkilötunnus",
    "ssn",
    "national_id",
    "name",
    "nimi",
    "phone",
    "puhelin",
    "email",
    "sahkoposti",
    "sähköposti",
    "address",
    "osoite",
)


@dataclass(frozen=True)
class Column:
    """One contract column: its type, whether it must exist and whether it may be empty."""

    name: str
    dtype: type[pl.DataType] | pl.DataType
    required: bool = True
    nullable: bool = False
    checks: tuple[pa.Check, ...] = ()
    unique: bool = False


@dataclass(frozen=True)
class RowRule:
    """A check across columns: ``ok`` is a boolean expression; nulls count as passing."""

    message: str
    ok: pl.Expr


@dataclass(frozen=True)
class Contract:
    name: str
    columns: tuple[Column, ...]
    rules: tuple[RowRule, ...] = ()
    dedupe: bool = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class Context:
    """What the checks compare against: the extract's date and the configured vocabularies."""

    reference_date: date
    partners: Sequence[str] = ()
    event_types: Sequence[str] = ()


@dataclass
class Validated:
    """A validated source: the rows to use, the refused rows with reasons, and counts."""

    source: str
    good: pl.DataFrame
    bad: pl.DataFrame
    rows_read: int
    duplicates_dropped: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def bad_share(self) -> float:
        return self.bad.height / self.rows_read if self.rows_read else 0.0

    def reasons(self) -> dict[str, int]:
        """Refused rows by reason (a row with several reasons counts under each)."""
        if self.bad.is_empty():
            return {}
        counts = (
            self.bad.select(pl.col("reason").str.split("; ").alias("r"))
            .explode("r")
            .group_by("r")
            .len()
            .sort(["len", "r"], descending=[True, False])
        )
        return dict(zip(counts["r"].to_list(), counts["len"].to_list(), strict=True))


def _date_range(ctx: Context) -> pa.Check:
    return pa.Check.in_range(EARLIEST, ctx.reference_date, error="date outside 1990..extract date")


def consents_contract(ctx: Context) -> Contract:
    allowed = (*CORE_PURPOSES, *(f"source:{p}" for p in ctx.partners))
    year = ctx.reference_date.year
    return Contract(
        "consents",
        (
            Column("person_id", pl.String, checks=(pa.Check.str_matches(PSEUDONYM),)),
            Column("consent_id", pl.String, unique=True),
            Column("given_at", pl.Date, checks=(_date_range(ctx),)),
            Column("expires_at", pl.Date, required=False, nullable=True),
            Column(
                "withdrawn_at", pl.Date, required=False, nullable=True, checks=(_date_range(ctx),)
            ),
            Column("purposes", pl.String),
            Column("channel", pl.String),
            Column("notice_version", pl.String),
            Column("birth_year", pl.Int32, checks=(pa.Check.in_range(year - 40, year - 12),)),
            Column("postal_code", pl.String, checks=(pa.Check.str_matches(r"^\d{5}$"),)),
            Column("language", pl.String, checks=(pa.Check.isin(LANGUAGES),)),
            Column("team", pl.String, checks=(pa.Check.str_length(min_value=1),)),
            Column(
                "gender", pl.String, required=False, nullable=True, checks=(pa.Check.isin(GENDERS),)
            ),
        ),
        rules=(
            RowRule("expires_at before given_at", pl.col("expires_at") > pl.col("given_at")),
            RowRule("withdrawn_at before given_at", pl.col("withdrawn_at") >= pl.col("given_at")),
            RowRule(
                f"unknown purpose (allowed: {', '.join(allowed)})",
                pl.col("purposes")
                .str.split(",")
                .list.eval(pl.element().str.strip_chars().is_in(allowed))
                .list.all(),
            ),
        ),
    )


def contacts_contract(ctx: Context) -> Contract:
    return Contract(
        "contacts",
        (
            Column("person_id", pl.String, unique=True, checks=(pa.Check.str_matches(PSEUDONYM),)),
            Column("name", pl.String, checks=(pa.Check.str_length(min_value=1),)),
            Column(
                "phone",
                pl.String,
                required=False,
                nullable=True,
                checks=(pa.Check.str_matches(r"^\+?[0-9 ()-]{6,24}$"),),
            ),
            Column(
                "email",
                pl.String,
                required=False,
                nullable=True,
                checks=(pa.Check.str_matches(r"^[^@\s]+@[^@\s]+$"),),
            ),
            Column("preferred_language", pl.String, checks=(pa.Check.isin(LANGUAGES),)),
        ),
    )


def events_contract(ctx: Context, source: str) -> Contract:
    return Contract(
        source,
        (
            Column("person_id", pl.String, checks=(pa.Check.str_matches(PSEUDONYM),)),
            Column("event_date", pl.Date, checks=(_date_range(ctx),)),
            Column("event_type", pl.String, checks=(pa.Check.isin(list(ctx.event_types)),)),
            Column(
                "value",
                pl.Float64,
                required=False,
                nullable=True,
                checks=(pa.Check.in_range(-1e6, 1e6, error="value outside ±1e6"),),
            ),
        ),
        dedupe=True,
    )


def outcomes_contract(ctx: Context) -> Contract:
    return Contract(
        "outcomes",
        (
            Column("person_id", pl.String, checks=(pa.Check.str_matches(PSEUDONYM),)),
            Column("registered_at", pl.Date, checks=(_date_range(ctx),)),
        ),
        dedupe=True,
    )


def services_contract(ctx: Context) -> Contract:
    return Contract(
        "services",
        (
            Column("person_id", pl.String, checks=(pa.Check.str_matches(PSEUDONYM),)),
            Column("service", pl.String, checks=(pa.Check.str_length(min_value=1),)),
            Column("start", pl.Date, checks=(_date_range(ctx),)),
            Column("end", pl.Date, required=False, nullable=True),
        ),
        rules=(RowRule("end before start", pl.col("end") >= pl.col("start")),),
        dedupe=True,
    )


def reviews_contract(ctx: Context) -> Contract:
    return Contract(
        "reviews",
        (
            Column("list_id", pl.String),
            Column("person_id", pl.String, checks=(pa.Check.str_matches(PSEUDONYM),)),
            Column("decision", pl.String, checks=(pa.Check.isin(DECISIONS),)),
            Column("reason", pl.String, required=False, nullable=True),
            Column("decided_at", pl.Date, checks=(_date_range(ctx),)),
            Column("counsellor", pl.String, checks=(pa.Check.str_length(min_value=1),)),
        ),
    )


CONTRACTS: dict[str, Callable[[Context], Contract]] = {
    "consents": consents_contract,
    "contacts": contacts_contract,
    "outcomes": outcomes_contract,
    "services": services_contract,
    "reviews": reviews_contract,
}


def validate(
    frame: pl.DataFrame,
    contract: Contract,
    *,
    source: str,
    decimal: str = "auto",
    date_format: str = "auto",
) -> Validated:
    """Check ``frame`` against ``contract``; raise only when the source is unusable as a whole.

    Raises
    ------
    SourceError
        When required columns are missing.
    """
    warnings = _column_warnings(frame, contract)
    missing = [c.name for c in contract.columns if c.required and c.name not in frame.columns]
    if missing:
        raise SourceError(
            source,
            f"missing required column(s) {', '.join(missing)}; the file has {frame.columns}.",
            column=missing[0],
            examples=frame.head(2).rows(named=True),
            hint="Column names must match the data contract in DESIGN.md.",
        )
    raw = frame.select(
        [
            pl.col(c.name) if c.name in frame.columns else pl.lit(None).alias(c.name)
            for c in contract.columns
        ]
    ).with_row_index("_row")
    typed, coerce_fail = _coerce(raw, contract, decimal, date_format)
    failures = [coerce_fail, _pandera_failures(typed, contract), _rule_failures(typed, contract)]
    reasons = (
        pl.concat([f for f in failures if f.height], how="vertical")
        if any(f.height for f in failures)
        else pl.DataFrame(schema={"_row": pl.UInt32, "reason": pl.String})
    )
    by_row = reasons.group_by("_row").agg(
        pl.col("reason").unique(maintain_order=True).str.join("; ")
    )
    bad = (
        raw.join(by_row, on="_row", how="inner")
        .sort("_row")
        .with_columns(pl.exclude("_row", "reason").cast(pl.String))
    )
    good = typed.join(by_row, on="_row", how="anti").sort("_row").drop("_row")
    duplicates = 0
    if contract.dedupe:
        before = good.height
        good = good.unique(maintain_order=True)
        duplicates = before - good.height
        if duplicates:
            warnings.append(f"{duplicates} exact duplicate rows dropped")
    return Validated(
        source=source,
        good=good,
        bad=bad.rename({"_row": "row"}),
        rows_read=frame.height,
        duplicates_dropped=duplicates,
        warnings=warnings,
    )


def _column_warnings(frame: pl.DataFrame, contract: Contract) -> list[str]:
    extra = [c for c in frame.columns if c not in contract.names]
    warnings = []
    identifiers = [c for c in extra if any(h in c.lower() for h in IDENTIFIER_HINTS)]
    if identifiers:
        warnings.append(
            f"column(s) {', '.join(identifiers)} look like direct identifiers and were dropped "
            "at the door; ask the partner to stop sending them"
        )
    others = [c for c in extra if c not in identifiers]
    if others:
        warnings.append(f"column(s) {', '.join(others)} are not in the contract and were ignored")
    return warnings


def _coerce(
    raw: pl.DataFrame, contract: Contract, decimal: str, date_format: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast to the contract's types; report present-but-unreadable values."""
    exprs, failures = [], []
    for col in contract.columns:
        src = raw.schema[col.name]
        expr = _cast(pl.col(col.name), src, col.dtype, decimal, date_format)
        exprs.append(expr.alias(col.name))
        present = pl.col(col.name).is_not_null()
        if src == pl.String:
            present = present & (pl.col(col.name).str.strip_chars() != "")
        failures.append((col, present & expr.is_null()))
    typed = raw.select("_row", *exprs)
    fail_frames = []
    flags = raw.select("_row", *[f.alias(c.name) for c, f in failures])
    for col, _ in failures:
        rows = flags.filter(pl.col(col.name)).select("_row")
        if rows.height:
            kind = _type_word(col.dtype)
            fail_frames.append(
                rows.join(
                    raw.select("_row", pl.col(col.name).cast(pl.String).alias("v")), on="_row"
                ).select(
                    "_row",
                    (
                        pl.lit(f"{col.name}: cannot read ")
                        + pl.col("v").str.slice(0, 40)
                        + pl.lit(f" as {kind}")
                    ).alias("reason"),
                )
            )
    empty = pl.DataFrame(schema={"_row": pl.UInt32, "reason": pl.String})
    return typed, pl.concat(fail_frames) if fail_frames else empty


def _cast(expr: pl.Expr, src: pl.DataType, dtype, decimal: str, date_format: str) -> pl.Expr:
    target = dtype if isinstance(dtype, pl.DataType) else dtype()
    if src == target:
        return expr
    if src == pl.String:
        text = expr.str.strip_chars()
        text = pl.when(text == "").then(None).otherwise(text)
        if target == pl.Date:
            iso = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
            fi = text.str.to_date("%d.%m.%Y", strict=False)
            return {"iso": iso, "fi": fi}.get(date_format, pl.coalesce(iso, fi))
        if target.is_numeric():
            number = text.str.replace_all(r"[\s\u00a0]", "")
            if decimal in (",", "auto"):
                number = number.str.replace(",", ".", literal=True)
            value = number.cast(pl.Float64, strict=False)
            value = pl.when(value.is_finite()).then(value).otherwise(None)
            if target.is_integer():
                return pl.when(value == value.round()).then(value).otherwise(None).cast(target)
            return value.cast(target)
        return text.cast(target, strict=False)
    if target == pl.Date and src in (pl.Datetime, pl.Datetime("us"), pl.Datetime("ns")):
        return expr.cast(pl.Date)
    if target == pl.String and src.is_integer():
        return expr.cast(pl.String).str.zfill(5)
    if target == pl.String:
        return expr.cast(pl.String)
    if target == pl.Date:
        return expr.cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    casted = expr.cast(target, strict=False)
    if target.is_float():
        return pl.when(casted.is_finite()).then(casted).otherwise(None)
    return casted


def _type_word(dtype) -> str:
    target = dtype if isinstance(dtype, pl.DataType) else dtype()
    if target == pl.Date:
        return "a date (yyyy-mm-dd or dd.mm.yyyy)"
    if target.is_integer():
        return "a whole number"
    if target.is_numeric():
        return "a finite number"
    return str(target)


def _pandera_failures(typed: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    schema = pa.DataFrameSchema(
        {
            c.name: pa.Column(
                c.dtype, checks=list(c.checks), nullable=c.nullable, unique=c.unique, coerce=False
            )
            for c in contract.columns
        },
        strict=False,
    )
    data = typed.drop("_row")
    try:
        schema.validate(data, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = pl.DataFrame(exc.failure_cases).filter(pl.col("index").is_not_null())
        if cases.is_empty():
            raise SourceError(contract.name, f"does not match its contract: {exc}") from None
        positions = typed.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("index"), "_row")
        words = {c: _check_words(c) for c in cases["check"].unique().to_list()}
        return (
            cases.with_columns(pl.col("index").cast(pl.Int64))
            .join(positions, on="index")
            .select(
                "_row",
                (pl.col("column") + pl.lit(": ") + pl.col("check").replace(words)).alias("reason"),
            )
        )
    return pl.DataFrame(schema={"_row": pl.UInt32, "reason": pl.String})


def _check_words(check: str) -> str:
    """Plain words for pandera's check names."""
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
    frames = [
        typed.filter(rule.ok.not_()).select("_row", pl.lit(rule.message).alias("reason"))
        for rule in contract.rules
    ]
    frames = [f for f in frames if f.height]
    return (
        pl.concat(frames)
        if frames
        else pl.DataFrame(schema={"_row": pl.UInt32, "reason": pl.String})
    )
