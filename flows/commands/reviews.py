"""Counsellors' decisions coming back: ``reviews import`` and ``reviews report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.commands.common import DEFAULT_CONFIG, Config, load, out, prepare, user_errors


@user_errors
def reviews_import(
    files: Annotated[
        list[Path], typer.Argument(help="Returned lists: the XLSX or CSV files as filled in.")
    ],
    config: Config = DEFAULT_CONFIG,
    counsellor: Annotated[
        str | None, typer.Option(help="Counsellor for rows that name none.")
    ] = None,
) -> None:
    """Import counsellors' decisions; they feed cool-downs and 'declined before' flags.

    A list may be returned again as more rows are decided: new decisions are added,
    unchanged ones skipped, changed ones recorded as corrections. Every mistake in a file
    is listed in one table.
    """
    from flows.context import exclusive, start
    from flows.reviews import import_files
    from outreach.reviews import problem_table

    settings = prepare(load(config))
    ctx = start(str(config), None, "reviews-import", settings=settings)
    with exclusive(ctx):
        imported = import_files(ctx, files, counsellor)
    for path, result in imported:
        overrides = int(result.decisions["override"].sum()) if result.decisions.height else 0
        out.print(
            f"{path.name}: {result.decisions.height} decisions ({overrides} overrides), "
            f"{result.corrections} corrections, {result.unchanged} unchanged, "
            f"{result.undecided} rows still undecided",
            highlight=False,
            soft_wrap=True,
        )
        for warning in result.warnings:
            out.print(f"  warning: {warning}", style="yellow", highlight=False, soft_wrap=True)
        if result.problems.height:
            out.print(
                problem_table(result.problems),
                style="yellow", highlight=False, markup=False, soft_wrap=True,
            )  # fmt: skip


@user_errors
def reviews_report(
    config: Config = DEFAULT_CONFIG,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="Markdown file (default: <workspace>/reports/reviews.md)."),
    ] = None,
) -> None:
    """Decisions, overrides and outcomes per team and risk band; how often counsellors disagree."""
    import polars as pl
    from rich.table import Table

    from flows import reviews_text
    from flows.context import start
    from flows.reviews import load_outcomes, report_tables

    settings = prepare(load(config))
    ctx = start(str(config), None, "reviews", settings=settings)
    tables = report_tables(ctx, load_outcomes(ctx))
    if not tables:
        out.print("No decisions imported yet.")
        return
    for name, table in tables.items():
        shown = Table(title=reviews_text.table_title(name))
        for column in table.columns:
            shown.add_column(
                column.replace("_", " "),
                justify="left" if table.schema[column] == pl.String else "right",
                overflow="fold",
            )
        for row in table.iter_rows():
            shown.add_row(*(reviews_text.cell(v) for v in row))
        out.print(shown)
    min_cell = settings.privacy.min_cell_size
    out.print(reviews_text.notes(min_cell), highlight=False)
    text = reviews_text.report_markdown(tables, settings.area_name, ctx.today, min_cell)
    target = (out_path or ctx.ws.path("reports", "reviews.md")).resolve()
    ctx.ws.write_text(target, text)
    out.print(f"Wrote {target}")
