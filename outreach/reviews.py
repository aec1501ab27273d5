"""Counsellors' decisions coming back: read, check, store.

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
what is expected; personal values are shown as row numbers only. The decision words and
the store's schema are in :mod:`outreach.decisions`; what the decisions add up to, in
:mod:`outreach.review_report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from features.errors import HIDDEN, SourceError, scrub
from outreach.decisions import DECISION_WORDS, STORE_SCHEMA, decision_vocabulary, normal
from outreach.labels import ASKED
from outreach.review_words import canonical_headers


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
        if not row or all(v in (None, "") for v in row) or _is_section_heading(row):
            continue
        values = [_cell(v) for v in row] + [None] * (len(header) - len(row))
        records.append({"row": number, **dict(zip(header, values, strict=False))})
    schema = {"row": pl.Int64, **{h: pl.String for h in header}}
    return (
        pl.DataFrame(records, schema=schema, orient="row")
        if records
        else pl.DataFrame(schema=schema)
    )


def _section_headings() -> set[str]:
    """The workbook's section headings ("asked to be contacted", "ranked") in every
    language: rows of the list's layout, not of decisions."""
    return {text for key in ("heading", "ranked_heading") for text in ASKED[key].values()}


def _is_section_heading(row: tuple) -> bool:
    filled = [v for v in row if v not in (None, "")]
    return len(filled) == 1 and str(filled[0]).strip() in _section_headings()


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
    rows = _with_list_facts(rows, published, contactable)
    found = _problems(rows, today, counsellor)
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
    decisions = _decisions(rows, published, today, counsellor)
    decisions, unchanged = _against_store(decisions, recorded)
    return ImportResult(decisions, undecided, warnings, unchanged, found)


def _with_list_facts(
    rows: pl.DataFrame,
    published: Mapping[str, pl.DataFrame],
    contactable: Mapping[str, set[str]],
) -> pl.DataFrame:
    """The decided rows with their code, their place on the published list (team, rank,
    band), whether the list was published and the person contactable, and the date read."""
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
    text = pl.col("decided_at").str.strip_chars()
    parsed = pl.coalesce(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%d.%m.%Y", strict=False),
        text.str.to_date("%-d.%-m.%Y", strict=False),
    )
    return rows.with_columns(
        _contactable=pl.struct("list_id", "person_id").is_in(
            allowed.select(pl.struct("list_id", "person_id")).to_series().implode()
        ),
        _published=pl.col("list_id").is_in(list(published)).fill_null(False),
        _date=parsed,
    )


def _problems(rows: pl.DataFrame, today: date, counsellor: str | None) -> pl.DataFrame:
    """Every mistake of the decided rows, all kinds in one pass (row, column, value, expected)."""
    on_list = pl.col("rank").is_not_null()
    comment = pl.col("comment")
    text = pl.col("decided_at").str.strip_chars()
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
        problems.add(pl.col("counsellor").is_null(), "counsellor",
                     "the counsellor's name or code (or pass --counsellor)")  # fmt: skip
    return problems.table()


def _decisions(
    rows: pl.DataFrame,
    published: Mapping[str, pl.DataFrame],
    today: date,
    counsellor: str | None,
) -> pl.DataFrame:
    """The checked rows as the store keeps them (an undated decision gets today)."""
    team_of_list = {
        lid: frame["team"][0] if frame.height else None for lid, frame in published.items()
    }
    return rows.select(
        "list_id",
        "person_id",
        pl.col("code").alias("decision"),
        pl.col("comment").alias("reason"),
        pl.col("_date").fill_null(today).alias("decided_at"),
        pl.coalesce(pl.col("counsellor"), pl.lit(counsellor)).alias("counsellor"),
        pl.coalesce(
            pl.col("team"), pl.col("list_id").replace_strict(team_of_list, default=None)
        ).alias("team"),
        pl.col("rank").cast(pl.Int64),
        "risk_band",
        pl.col("rank").is_null().alias("override"),
        pl.lit(today).alias("imported_at"),
    )


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
