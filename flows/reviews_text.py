"""The words of the reviews report (``ennakko reviews report``), apart from the command.

The command shows the tables on the terminal; this module writes them as the Markdown a
team lead or an analyst reads, with the notes that say what the numbers can and cannot
be taken to mean. Pure text over polars frames: no clock, no file.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl


def cell(value: Any) -> str:
    """A table cell as shown: blank for a suppressed value, three decimals for a share."""
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def title(area_name: str, today: date) -> str:
    return f"Decisions on the outreach lists ({area_name}, {today})"


def table_title(name: str) -> str:
    """``by_team_band`` -> ``by team band``."""
    return name.replace("_", " ")


def notes(min_cell_size: int) -> str:
    """What a reader must know before drawing conclusions from the tables."""
    return (
        f"Blank cells: a count of fewer than {min_cell_size} persons, or a "
        "share or rate whose numerator or denominator is that small, suppressed "
        "(privacy.min_cell_size). Only the latest decision per person and list counts; "
        "corrections: how many of them replaced an earlier decision. Disagreement: a row "
        "marked 'not appropriate', or a person a counsellor added. Registration shares by "
        "decision describe, they do not prove that outreach helps (counsellors choose whom "
        "to contact); the hold-out tables, when outreach.holdout_share is on, compare "
        "randomly held-out persons of the capacity margin with the not-held-out as "
        "docs/holdout-analysis-plan.md fixed before any outcome existed (the effect is "
        "'pre-registered' only while the plan file has the hash the audit log recorded): "
        "see 'The hold-out' in docs/runbook.md."
    )


VERDICT = "verdict ("  # the hold-out effect's rows in plain words, one per language


def holdout_words(table: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """The hold-out effect table without its verdict rows, and those as paragraphs."""
    is_verdict = pl.col("measure").str.starts_with(VERDICT)
    words = [
        f"**{m.removeprefix(VERDICT).rstrip(')')}:** {v}"
        for m, v in table.filter(is_verdict).iter_rows()
    ]
    return table.filter(~is_verdict), words


def markdown_table(table: pl.DataFrame) -> str:
    """A frame as a Markdown table, cells as :func:`cell` shows them."""
    head = "| " + " | ".join(table.columns) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.iter_rows()]
    return "\n".join([head, rule, *body])


def report_markdown(
    tables: dict[str, pl.DataFrame], area_name: str, today: date, min_cell_size: int
) -> str:
    """The whole report: a title, each table under its heading, then the notes."""
    lines = [f"# {title(area_name, today)}", ""]
    for name, table in tables.items():
        words: list[str] = []
        if name == "hold_out_effect":
            table, words = holdout_words(table)
        lines += [f"## {table_title(name)}", "", markdown_table(table), ""]
        lines += [line for w in words for line in (w, "")]
    lines.append(notes(min_cell_size))
    return "\n".join(lines) + "\n"
