"""Counsellors' decisions coming back: read, check, store, summarise.

A returned list (the XLSX a counsellor filled in, or its CSV) carries one decision per
row, in Finnish, Swedish or English. Rows without a decision are simply not decided yet.
A counsellor may also add a person the model did not list (an **override**): allowed when
the person may be contacted and the comment says why.

The loop forgives: a list may come back again and again as more rows are decided. An
unchanged decision is skipped, a new one added, a changed one stored as a **correction**
(the earlier row is kept, marked ``superseded_at``; everything downstream counts the
latest). Whatever does not add up (an unknown decision, a list never published, a person
neither on the list nor contactable, an override without a reason, a bad date, a missing
counsellor) is found in one pass and reported as one table of row, column, value and
what is expected; personal values are shown as row numbers only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from features.errors import HIDDEN, SourceError, scrub
from outreach.cells import count_expr, counts, share, share_expr
from outreach.review_words import (
    DECISION_WORDS,
    canonical_headers,
    decision_vocabulary,
    normal,
)

STORE_SCHEMA = {
    "list_id": pl.String,
    "person_id": pl.String,
    "decision": pl.String,
    "reason": pl.String,
    "decided_at": pl.Date,
    "counsellor": pl.String,
    "team": pl.String,
    "rank": pl.Int64,
    "risk_band": pl.String,
    "override": pl.Boolean,
    "imported_at": pl.Date,
    "corrects": pl.String,  # the decision this row corrects (null: a first decision)
    "superseded_at": pl.Date,  # when a correction replaced this row (null: the latest)
}


def read_returned(path: Path) -> pl.DataFrame:
    """A returned list as text columns named as published, with the file's own row
    numbers in ``row`` (headers in Finnish, Swedish or English are understood)."""
    if not path.is_file():
        raise SourceError(str(path), "the returned list does not exist.")
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    if path.suffix.lower() == ".csv":
        try:
            frame = pl.read_csv(path, infer_schema=False)
        except Exception as exc:
            raise SourceError(str(path), f"cannot be read as CSV: {exc}") from None
        frame = frame.rename(dict(zip(frame.columns, _unique(frame.columns), strict=True)))
        frame = frame.with_columns(pl.all().str.strip_prefix("'"))  # undo formula neutralising
        return frame.with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    raise SourceError(
        str(path), "is neither .xlsx nor .csv.", hint="Return the list as it was sent."
    )


def _unique(cells: list[object]) -> list[str]:
    """Canonical column names; a name seen twice keeps its first place only."""
    seen: set[str] = set()
    out = []
    for i, name in enumerate(canonical_headers(list(cells))):
        out.append(name if name not in seen else f"column_{i}")
        seen.add(name)
    return out


def _read_xlsx(path: Path) -> pl.DataFrame:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise SourceError(str(path), f"is not a readable workbook: {exc}") from None

    def is_header(row: tuple | None) -> bool:
        return bool(row) and "person_id" in _unique(list(row))

    found = None
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header_at = next((i for i, r in enumerate(rows) if is_header(r)), None)
        if header_at is not None:
            # Plain headings may sit above a row of the columns' keys: read the last.
            while header_at + 1 < len(rows) and is_header(rows[header_at + 1]):
                header_at += 1
            found = rows, header_at
            break
    workbook.close()
    if found is None:
        raise SourceError(
            str(path), "has no header row with a `person_id` column.", column="person_id"
        )
    rows, header_at = found
    header = _unique(list(rows[header_at]))
    records = []
    for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not row or all(v in (None, "") for v in row):
            continue
        values = [_cell(v) for v in row] + [None] * (len(header) - len(row))
        records.append({"row": number, **dict(zip(header, values, strict=False))})
    schema = {"row": pl.Int64, **{h: pl.String for h in header}}
    return (
        pl.DataFrame(records, schema=schema, orient="row")
        if records
        else pl.DataFrame(schema=schema)
    )


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


PRIVATE = ("person_id", "list_person_id", "name", "phone", "email", "comment", "counsellor")
PROBLEM_SCHEMA = {"row": pl.Int64, "column": pl.String, "value": pl.String, "expected": pl.String}


@dataclass
class ReturnedListError(SourceError):
    """Every mistake found in one returned list, as a table (row, column, value, expected).

    Values of personal columns (the pseudonym, names, phone numbers, comments, counsellor
    ids) are never shown: the row number is enough to find them in the file.
    """

    problems: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROBLEM_SCHEMA))

    def describe(self) -> str:
        return f"{super().describe()}\n{problem_table(self.problems)}"


def problem_table(problems: pl.DataFrame) -> str:
    """The problems as an aligned plain-text table, identifier-shaped text hidden."""
    head = ("row", "column", "value", "expected")
    body = [
        (str(r["row"]), r["column"], _short(scrub(r["value"] or "")), scrub(r["expected"]))
        for r in problems.sort("row", "column").iter_rows(named=True)
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line[:3], widths, strict=True)) + "  " + line[3]
        for line in [head, *body]
    )


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class ImportResult:
    """What one returned list brought: decisions to store (new ones and corrections)."""

    decisions: pl.DataFrame
    undecided: int = 0
    warnings: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROBLEM_SCHEMA))

    @property
    def corrections(self) -> int:
        return int(self.decisions["corrects"].is_not_null().sum()) if self.decisions.height else 0


def current(stored: pl.DataFrame) -> pl.DataFrame:
    """The latest decision per list and person (corrected ones have ``superseded_at``)."""
    return stored.filter(pl.col("superseded_at").is_null())


def with_history_columns(stored: pl.DataFrame) -> pl.DataFrame:
    """A store written before corrections were kept, given their (empty) columns."""
    missing = [c for c in STORE_SCHEMA if c not in stored.columns]
    return stored.with_columns(pl.lit(None, STORE_SCHEMA[c]).alias(c) for c in missing).select(
        list(STORE_SCHEMA)
    )


def merge(stored: pl.DataFrame, incoming: pl.DataFrame, today: date) -> pl.DataFrame:
    """``stored`` with ``incoming`` appended; a decision a correction replaces is kept,
    marked ``superseded_at`` today, so the history stays and reports count the latest."""
    stored = with_history_columns(stored)
    if incoming.is_empty():
        return stored
    keys = incoming.filter(pl.col("corrects").is_not_null()).select("list_id", "person_id")
    replaced = pl.struct("list_id", "person_id").is_in(
        keys.select(pl.struct("list_id", "person_id")).to_series().implode()
    )
    stored = stored.with_columns(
        superseded_at=pl.when(replaced & pl.col("superseded_at").is_null())
        .then(pl.lit(today))
        .otherwise(pl.col("superseded_at"))
    )
    return pl.concat([stored, incoming.select(list(STORE_SCHEMA)).cast(STORE_SCHEMA)])


class _Problems:
    """Collects the mistakes of one file, all kinds in one pass."""

    def __init__(self, rows: pl.DataFrame) -> None:
        self.rows = rows
        self.found: list[pl.DataFrame] = []

    def add(self, mask: pl.Expr, column: str, expected: str) -> None:
        value = (
            pl.lit(HIDDEN)
            if column in PRIVATE or column not in self.rows.columns
            else pl.col(column).cast(pl.String)
        )
        if column not in PRIVATE and column in self.rows.columns:
            value = pl.coalesce(value, pl.lit("(empty)"))
        bad = self.rows.filter(mask).select(
            "row", column=pl.lit(column), value=value, expected=pl.lit(expected)
        )
        if bad.height:
            self.found.append(bad.cast(PROBLEM_SCHEMA))

    def table(self) -> pl.DataFrame:
        if not self.found:
            return pl.DataFrame(schema=PROBLEM_SCHEMA)
        return pl.concat(self.found).sort("row", "column")


def check_returned(
    returned: pl.DataFrame,
    *,
    source: str,
    published: Mapping[str, pl.DataFrame],
    contactable: Mapping[str, set[str]],
    recorded: pl.DataFrame,
    today: date,
    counsellor: str | None,
    keep_good_rows: bool = False,
) -> ImportResult:
    """Validate one returned list against what was published and what is already stored.

    ``published`` maps list ids to the published rows (person_id, team, rank, risk_band);
    ``contactable`` maps list ids to the persons who could be contacted on the list's date
    (a counsellor may add them: an override). Every mistake is found in one pass: with
    ``keep_good_rows`` the rows without one are kept and the rest reported in
    ``problems``, else the file is refused as a whole (:class:`ReturnedListError`). A decision
    already stored unchanged is skipped; a changed one comes back as a correction
    (``corrects`` holds the decision it replaces).
    """
    needed = ("list_id", "person_id", "decision")
    missing = [c for c in needed if c not in returned.columns]
    if missing:
        raise SourceError(source, f"missing column(s) {', '.join(missing)}.", column=missing[0])
    returned = returned.with_columns(pl.exclude("row").cast(pl.String))  # as read: text
    for optional in ("comment", "decided_at", "counsellor"):
        if optional not in returned.columns:
            returned = returned.with_columns(pl.lit(None, pl.String).alias(optional))
    rows = returned.filter(
        pl.col("decision").is_not_null() & (pl.col("decision").str.strip_chars() != "")
    )
    undecided = returned.height - rows.height
    if rows.is_empty():
        return ImportResult(pl.DataFrame(schema=STORE_SCHEMA), undecided)

    vocabulary = decision_vocabulary()
    rows = rows.with_columns(
        code=pl.col("decision").map_elements(
            lambda v: vocabulary.get(normal(v)), return_dtype=pl.String
        )
    )
    listed = pl.concat(
        [frame.select("person_id", "team", "rank", "risk_band").with_columns(list_id=pl.lit(lid))
         for lid, frame in published.items()]
        or [pl.DataFrame(schema={"person_id": pl.String, "team": pl.String, "rank": pl.Int64,
                                 "risk_band": pl.String, "list_id": pl.String})]
    )  # fmt: skip
    rows = rows.drop([c for c in ("team", "rank", "risk_band") if c in rows.columns]).join(
        listed.with_columns(pl.col("rank").cast(pl.Int64)), on=["list_id", "person_id"],
        how="left",
    )  # fmt: skip
    pairs = [(lid, p) for lid, persons in contactable.items() for p in persons]
    allowed = pl.DataFrame(
        pairs, schema={"list_id": pl.String, "person_id": pl.String}, orient="row"
    )
    on_list = pl.col("rank").is_not_null()
    comment = pl.col("comment")
    who = pl.col("counsellor")
    text = pl.col("decided_at").str.strip_chars()
    parsed = pl.coalesce(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%d.%m.%Y", strict=False),
        text.str.to_date("%-d.%-m.%Y", strict=False),
    )
    rows = rows.with_columns(
        _contactable=pl.struct("list_id", "person_id").is_in(
            allowed.select(pl.struct("list_id", "person_id")).to_series().implode()
        ),
        _published=pl.col("list_id").is_in(list(published)).fill_null(False),
        _date=parsed,
    )
    words = ", ".join(DECISION_WORDS) + " (or the drop-down's words in Finnish, Swedish or English)"
    problems = _Problems(rows)
    problems.add(pl.col("code").is_null(), "decision", f"the decision is not one of: {words}")
    problems.add(~pl.col("_published"), "list_id",
                 "a list that was published: this list was never published "
                 "(or has since been deleted by retention)")  # fmt: skip
    problems.add(
        pl.col("_published") & ~on_list & ~pl.col("_contactable"), "person_id",
        "a person on this list, or one with a valid consent to be contacted on its date "
        "(this one had no valid consent)",
    )  # fmt: skip
    problems.add(
        pl.col("_published") & ~on_list & (comment.is_null() | (comment.str.strip_chars() == "")),
        "comment", "the reason, for a person added by a counsellor (an override)",
    )  # fmt: skip
    problems.add(pl.struct("list_id", "person_id").is_duplicated(), "person_id",
                 "one decision per person and list: this person has more than one decision "
                 "on the same list in this file")  # fmt: skip
    problems.add(text.is_not_null() & pl.col("_date").is_null(), "decided_at",
                 "a date, yyyy-mm-dd or dd.mm.yyyy")  # fmt: skip
    problems.add(pl.col("_date") > today, "decided_at", f"a date not after today ({today})")
    if counsellor is None:
        problems.add(who.is_null(), "counsellor",
                     "the counsellor's name or code (or pass --counsellor)")  # fmt: skip
    found = problems.table()
    warnings = []
    if found.height:
        bad_rows = found["row"].unique().len()
        if not keep_good_rows:
            raise ReturnedListError(
                source,
                f"{found.height} mistake(s) in {bad_rows} row(s); nothing from this file was "
                "stored. Every mistake is listed below.",
                hint="Correct these rows and import the file again (reviews.keep_good_rows: "
                "true stores the rows without mistakes).",
                problems=found,
            )
        rows = rows.filter(~pl.col("row").is_in(found["row"].unique().implode()))
        warnings.append(f"{bad_rows} row(s) with mistakes were not stored (table below)")
    if rows.select(pl.col("decided_at").is_null().sum()).item():
        warnings.append(
            f"{rows.select(pl.col('decided_at').is_null().sum()).item()} decision(s) without "
            f"a date got the import date {today}"
        )
    team_of_list = {
        lid: frame["team"][0] if frame.height else None for lid, frame in published.items()
    }
    decisions = rows.select(
        "list_id",
        "person_id",
        pl.col("code").alias("decision"),
        comment.alias("reason"),
        pl.col("_date").fill_null(today).alias("decided_at"),
        pl.coalesce(who, pl.lit(counsellor)).alias("counsellor"),
        pl.coalesce(
            pl.col("team"), pl.col("list_id").replace_strict(team_of_list, default=None)
        ).alias("team"),
        pl.col("rank").cast(pl.Int64),
        "risk_band",
        (~on_list).alias("override"),
        pl.lit(today).alias("imported_at"),
    )
    decisions, unchanged = _against_store(decisions, recorded)
    return ImportResult(decisions, undecided, warnings, unchanged, found)


def _against_store(decisions: pl.DataFrame, recorded: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """New decisions, and changed ones as corrections; unchanged ones dropped (counted)."""
    before = current(with_history_columns(recorded)).select(
        "list_id", "person_id", pl.col("decision").alias("_before"),
        pl.col("reason").alias("_reason_before"),
    )  # fmt: skip
    joined = decisions.join(before, on=["list_id", "person_id"], how="left")
    same = (
        pl.col("_before").is_not_null()
        & (pl.col("_before") == pl.col("decision"))
        & pl.col("_reason_before").eq_missing(pl.col("reason"))
    )
    unchanged = int(joined.select(same.sum()).item())
    out = joined.filter(~same).with_columns(
        corrects=pl.col("_before"), superseded_at=pl.lit(None, pl.Date)
    )
    return out.select(list(STORE_SCHEMA)).cast(STORE_SCHEMA), unchanged


def disagrees() -> pl.Expr:
    """The counsellor found the row "not appropriate" (the ranking was wrong for this
    person) or added someone the model missed (an override)."""
    return (pl.col("decision") == "not_appropriate") | pl.col("override")


def headline(decisions: pl.DataFrame, min_cell: int) -> dict[str, float]:
    """The automation-bias watch in a few numbers, over the latest decisions.

    A count under ``min_cell`` is left out, and so is a share whose numerator or
    denominator is under it: an override share of 1 in 12 would point at one person.
    """
    decisions = current(with_history_columns(decisions))
    n = decisions.height
    if n < min_cell:
        return {}
    numerators = decisions.select(
        reviews_disagreement_rate=disagrees().sum(),
        reviews_override_share=pl.col("override").sum(),
        reviews_contacted_share=(pl.col("decision") == "contacted").sum(),
        reviews_correction_share=pl.col("corrects").is_not_null().sum(),
    ).row(0, named=True)
    shares = {k: share(v, n, min_cell) for k, v in numerators.items()}
    return {
        **counts({"reviews_decisions": float(n)}, min_cell),
        **{k: float(v) for k, v in shares.items() if v is not None},
    }


def summarise(decisions: pl.DataFrame, min_cell: int) -> dict[str, pl.DataFrame]:
    """Decisions by team and by risk band, and the automation-bias watch.

    Disagreement = the counsellor found the row "not appropriate" (the ranking was wrong
    for this person) or added someone the model missed (an override). Only the latest
    decision per person and list counts (``corrections`` says how many of them replaced an
    earlier one). Counts under ``min_cell`` and rates whose numerator or denominator is
    under it are suppressed (null).
    """
    if "superseded_at" in decisions.columns:
        decisions = current(decisions)
    if decisions.is_empty():
        return {}
    if "corrects" not in decisions.columns:
        decisions = decisions.with_columns(corrects=pl.lit(None, pl.String))
    counted = decisions.with_columns(
        disagree=disagrees(),
        rank_band=pl.when(pl.col("rank").is_null()).then(pl.lit("override"))
        .when(pl.col("rank") <= 5).then(pl.lit("rank 1-5"))
        .when(pl.col("rank") <= 15).then(pl.lit("rank 6-15"))
        .otherwise(pl.lit("rank 16+")),
    )  # fmt: skip

    def table(by: Sequence[str]) -> pl.DataFrame:
        wide = (
            counted.group_by(*by)
            .agg(
                decisions=pl.len(),
                contacted=(pl.col("decision") == "contacted").sum(),
                not_reached=(pl.col("decision") == "not_reached").sum(),
                declined=(pl.col("decision") == "declined").sum(),
                not_appropriate=(pl.col("decision") == "not_appropriate").sum(),
                helped_elsewhere=(pl.col("decision") == "helped_elsewhere").sum(),
                overrides=pl.col("override").sum(),
                corrections=pl.col("corrects").is_not_null().sum(),
                _disagreements=pl.col("disagree").sum(),
            )
            .sort(*by)
        )
        counts = [c for c in wide.columns if c not in by and not c.startswith("_")]
        return wide.with_columns(
            disagreement_rate=share_expr(pl.col("_disagreements"), pl.col("decisions"), min_cell)
        ).select(*by, *(count_expr(pl.col(c), min_cell) for c in counts), "disagreement_rate")

    return {
        "by_team": table(["team"]),
        "by_risk_band": table(["risk_band"]),
        "by_rank": table(["rank_band"]),
    }


def registered_shares(
    rows: pl.DataFrame,
    outcomes: pl.DataFrame,
    since: str,
    by: str,
    horizon_days: int,
    observed_until: date,
    min_cell: int,
) -> pl.DataFrame:
    """Share of ``rows`` (person_id, ``since``, ``by``) registering as unemployed within
    ``(since, since + horizon]``, per ``by``; only rows whose whole horizon is observed
    count. Groups under ``min_cell`` persons, and shares of fewer than ``min_cell``
    registrations, are suppressed (null)."""
    horizon = pl.duration(days=horizon_days)
    rows = rows.filter(pl.col(since) + horizon < pl.lit(observed_until)).select(
        "person_id", since, by
    )
    hits = (
        rows.join(outcomes.select("person_id", "registered_at"), on="person_id", how="inner")
        .filter(
            (pl.col("registered_at") > pl.col(since))
            & (pl.col("registered_at") <= pl.col(since) + horizon)
        )
        .select("person_id", since)
        .unique()
        .with_columns(registered=pl.lit(True))
    )
    return (
        rows.join(hits, on=["person_id", since], how="left")
        .with_columns(pl.col("registered").fill_null(False))
        .group_by(by)
        .agg(
            persons=pl.col("person_id").n_unique(),
            registered=pl.col("registered").sum(),
            share=pl.col("registered").mean(),
        )
        .select(
            by,
            persons=count_expr(pl.col("persons"), min_cell),
            registered_share=pl.when(
                share_expr(pl.col("registered"), pl.col("persons"), min_cell).is_not_null()
            ).then(pl.col("share")),
        )
        .sort(by)
    )


def effectiveness(
    decisions: pl.DataFrame,
    outcomes: pl.DataFrame,
    horizon_days: int,
    observed_until: date,
    min_cell: int,
) -> pl.DataFrame:
    """Later registration as unemployed, by decision, where the whole horizon is observed.

    This describes, it does not prove: contacted and declined persons differ in more than
    the contact. The hold-out (``outreach.holdout_share``) gives an unbiased comparison.
    """
    return registered_shares(
        decisions, outcomes, "decided_at", "decision", horizon_days, observed_until, min_cell
    )


def holdout_comparison(
    draws: pl.DataFrame,
    outcomes: pl.DataFrame,
    horizon_days: int,
    observed_until: date,
    min_cell: int,
) -> pl.DataFrame:
    """Later registration of the capacity margin's held-out and not-held-out persons.

    The draw is random, so the two groups differ only by chance and by being eligible for
    a place on the list: the difference in registered share estimates the effect of that
    eligibility near the cut-off (intention to treat). Not every not-held-out person gets
    a place (the margin reaches below the cut-off) or is reached, so ``listed_share`` is
    shown beside it: the effect of a place itself is about the difference divided by it.
    Only draws whose whole horizon is observed count; small groups are suppressed.
    """
    grouped = draws.with_columns(
        group=pl.when(pl.col("held_out")).then(pl.lit("held out")).otherwise(pl.lit("not held out"))
    )
    shares = registered_shares(
        grouped, outcomes, "as_of", "group", horizon_days, observed_until, min_cell
    )
    horizon = pl.duration(days=horizon_days)
    listed = (
        grouped.filter(pl.col("as_of") + horizon < pl.lit(observed_until))
        .group_by("group")
        .agg(listed_share=share_expr(pl.col("listed").sum(), pl.len(), min_cell))
    )
    return shares.join(listed, on="group", how="left")
