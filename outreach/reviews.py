"""Counsellors' decisions coming back: read, check, store, summarise.

A returned list (the XLSX a counsellor filled in, or its CSV) carries one decision per
row. Rows without a decision are simply not decided yet. A counsellor may also add a
person the model did not list (an **override**): allowed when the person may be contacted
and the comment says why. Everything else that does not add up is refused with the file,
the column and the rows: an unknown decision, a list that was never published, a person
neither on the list nor contactable, a decision already recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from features.errors import SourceError
from outreach.writers import DECISION_LABELS

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
}
DECISION_CODES = {**DECISION_LABELS, **{v: v for v in DECISION_LABELS.values()}}


def read_returned(path: Path) -> pl.DataFrame:
    """A returned list as text columns, with the file's own row numbers in ``row``."""
    if not path.is_file():
        raise SourceError(str(path), "the returned list does not exist.")
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    if path.suffix.lower() == ".csv":
        try:
            frame = pl.read_csv(path, infer_schema=False)
        except Exception as exc:
            raise SourceError(str(path), f"cannot be read as CSV: {exc}") from None
        frame = frame.with_columns(pl.all().str.strip_prefix("'"))  # undo formula neutralising
        return frame.with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    raise SourceError(
        str(path), "is neither .xlsx nor .csv.", hint="Return the list as it was sent."
    )


def _read_xlsx(path: Path) -> pl.DataFrame:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise SourceError(str(path), f"is not a readable workbook: {exc}") from None
    sheet = workbook["Lista"] if "Lista" in workbook.sheetnames else workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    workbook.close()
    header_at = next((i for i, r in enumerate(rows) if r and "person_id" in r), None)
    if header_at is None:
        raise SourceError(
            str(path), "has no header row with a `person_id` column.", column="person_id"
        )
    header = [str(c) if c is not None else f"column_{i}" for i, c in enumerate(rows[header_at])]
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


@dataclass
class ImportResult:
    decisions: pl.DataFrame
    undecided: int = 0
    warnings: list[str] = field(default_factory=list)


def check_returned(
    returned: pl.DataFrame,
    *,
    source: str,
    published: Mapping[str, pl.DataFrame],
    contactable: Mapping[str, set[str]],
    recorded: pl.DataFrame,
    today: date,
    counsellor: str | None,
) -> ImportResult:
    """Validate one returned list against what was published and what is already stored.

    ``published`` maps list ids to the published rows (person_id, team, rank, risk_band);
    ``contactable`` maps list ids to the persons who could be contacted on the list's date
    (a counsellor may add them: an override).
    """
    needed = ("list_id", "person_id", "decision")
    missing = [c for c in needed if c not in returned.columns]
    if missing:
        raise SourceError(source, f"missing column(s) {', '.join(missing)}.", column=missing[0])
    rows = returned.filter(
        pl.col("decision").is_not_null() & (pl.col("decision").str.strip_chars() != "")
    )
    undecided = returned.height - rows.height
    if rows.is_empty():
        return ImportResult(pl.DataFrame(schema=STORE_SCHEMA), undecided)

    def refuse(
        mask: pl.Series | pl.Expr, column: str, message: str, hint: str | None = None
    ) -> None:
        bad = rows.filter(mask)
        if bad.height:
            raise SourceError(
                source, f"{bad.height} row(s): {message}", column=column,
                examples=[f"row {r}" for r in bad["row"].head(5).to_list()], hint=hint,
            )  # fmt: skip

    decision = pl.col("decision").str.strip_chars().str.to_lowercase()
    refuse(
        ~decision.is_in(list(DECISION_CODES)), "decision",
        "the decision is not one of: " + ", ".join(DECISION_LABELS) + ".",
        hint="Use the drop-down in the workbook.",
    )  # fmt: skip
    refuse(
        ~pl.col("list_id").is_in(list(published)), "list_id",
        "the list was never published (or has since been deleted by retention).",
    )  # fmt: skip
    rows = rows.with_columns(code=decision.replace_strict(DECISION_CODES, return_dtype=pl.String))
    listed = pl.concat(
        [frame.select("person_id", "team", "rank", "risk_band").with_columns(list_id=pl.lit(lid))
         for lid, frame in published.items()]
    )  # fmt: skip
    rows = rows.drop([c for c in ("team", "rank", "risk_band") if c in rows.columns]).join(
        listed, on=["list_id", "person_id"], how="left"
    )
    on_list = pl.col("rank").is_not_null()
    pairs = [(lid, p) for lid, persons in contactable.items() for p in persons]
    allowed = pl.DataFrame(
        pairs, schema={"list_id": pl.String, "person_id": pl.String}, orient="row"
    )
    rows = rows.with_columns(
        _contactable=pl.struct("list_id", "person_id").is_in(
            allowed.select(pl.struct("list_id", "person_id")).to_series().implode()
        )
    )
    refuse(
        ~on_list & ~pl.col("_contactable"), "person_id",
        "the person is not on this list and had no valid consent to be contacted on its date.",
    )  # fmt: skip
    comment = pl.col("comment") if "comment" in rows.columns else pl.lit(None, pl.String)
    refuse(
        ~on_list & (comment.is_null() | (comment.str.strip_chars() == "")), "comment",
        "a person added by a counsellor (an override) needs the reason in the comment column.",
    )  # fmt: skip
    refuse(
        pl.struct("list_id", "person_id").is_duplicated(), "person_id",
        "the same person has more than one decision on the same list in this file.",
    )  # fmt: skip
    if not recorded.is_empty():
        again = rows.join(
            recorded.select("list_id", "person_id"), on=["list_id", "person_id"], how="semi"
        )
        if again.height:
            raise SourceError(
                source, f"{again.height} decision(s) were already imported from an earlier return.",
                column="decision", examples=[f"row {r}" for r in again["row"].head(5).to_list()],
                hint="Each decision is imported once; correct it with the team lead if it changed.",
            )  # fmt: skip
    warnings = []
    decided_at = _dates(rows, source, today)
    if decided_at.null_count():
        warnings.append(
            f"{decided_at.null_count()} decision(s) without a date got the import date {today}"
        )
    who = pl.col("counsellor") if "counsellor" in rows.columns else pl.lit(None, pl.String)
    if counsellor is None and rows.select(who.is_null().any()).item():
        refuse(who.is_null(), "counsellor", "the counsellor's name or code is missing.",
               hint="Fill in the counsellor column, or pass --counsellor.")  # fmt: skip
    team_of_list = {
        lid: frame["team"][0] if frame.height else None for lid, frame in published.items()
    }
    decisions = rows.select(
        "list_id",
        "person_id",
        pl.col("code").alias("decision"),
        comment.alias("reason"),
        pl.Series(decided_at).fill_null(today).alias("decided_at"),
        pl.coalesce(who, pl.lit(counsellor)).alias("counsellor"),
        pl.coalesce(
            pl.col("team"), pl.col("list_id").replace_strict(team_of_list, default=None)
        ).alias("team"),
        pl.col("rank").cast(pl.Int64),
        "risk_band",
        (~on_list).alias("override"),
        pl.lit(today).alias("imported_at"),
    )
    return ImportResult(decisions.cast(STORE_SCHEMA), undecided, warnings)


def _dates(rows: pl.DataFrame, source: str, today: date) -> pl.Series:
    if "decided_at" not in rows.columns:
        return pl.Series("decided_at", [None] * rows.height, dtype=pl.Date)
    text = rows["decided_at"].str.strip_chars()
    parsed = pl.coalesce(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%d.%m.%Y", strict=False),
    ).alias("decided_at")
    parsed = rows.select(parsed).to_series()
    bad = rows.filter(text.is_not_null() & parsed.is_null())
    if bad.height:
        raise SourceError(source, "decided_at is not a date (yyyy-mm-dd or dd.mm.yyyy).",
                          column="decided_at", examples=[f"row {r}" for r in bad["row"].head(5).to_list()])  # fmt: skip
    future = rows.filter(parsed > today)
    if future.height:
        raise SourceError(source, "decided_at is in the future.", column="decided_at",
                          examples=[f"row {r}" for r in future["row"].head(5).to_list()])  # fmt: skip
    return parsed


def disagrees() -> pl.Expr:
    """The counsellor found the row "not appropriate" (the ranking was wrong for this
    person) or added someone the model missed (an override)."""
    return (pl.col("decision") == "not_appropriate") | pl.col("override")


def summarise(decisions: pl.DataFrame, min_cell: int) -> dict[str, pl.DataFrame]:
    """Decisions by team and by risk band, and the automation-bias watch.

    Disagreement = the counsellor found the row "not appropriate" (the ranking was wrong
    for this person) or added someone the model missed (an override). Cells under
    ``min_cell`` are suppressed.
    """
    if decisions.is_empty():
        return {}
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
                disagreement_rate=pl.col("disagree").mean(),
            )
            .sort(*by)
        )
        counts = [c for c in wide.columns if c not in (*by, "disagreement_rate")]
        return wide.with_columns(
            [pl.when(pl.col(c) >= min_cell).then(pl.col(c)) for c in counts]
        ).with_columns(
            disagreement_rate=pl.when(pl.col("decisions").is_not_null()).then(
                pl.col("disagreement_rate")
            )
        )

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
    count, and groups under ``min_cell`` persons are suppressed (null)."""
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
    small = pl.col("persons") < min_cell
    return (
        rows.join(hits, on=["person_id", since], how="left")
        .with_columns(pl.col("registered").fill_null(False))
        .group_by(by)
        .agg(persons=pl.col("person_id").n_unique(), registered_share=pl.col("registered").mean())
        .with_columns(
            registered_share=pl.when(~small).then(pl.col("registered_share")),
            persons=pl.when(~small).then(pl.col("persons")),
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
        .agg(listed_share=pl.col("listed").mean())
    )
    return shares.join(listed, on="group", how="left").with_columns(
        listed_share=pl.when(pl.col("persons").is_not_null()).then(pl.col("listed_share"))
    )
