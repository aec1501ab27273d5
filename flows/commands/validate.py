"""``ennakko validate``: every source against its contract and its age, before a run.

Reads and checks only: no Prefect, no MLflow, nothing written. With ``--json`` the same
verdicts, ages and stale-data estimate are one JSON object on stdout.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import typer

from flows.commands.common import (
    DEFAULT_CONFIG,
    AsJson,
    AsOf,
    Config,
    console,
    emit_json,
    load_dated,
    out,
    user_errors,
)

if TYPE_CHECKING:
    from flows.settings import Settings
    from flows.validation import SourceReport, Validation

COLOURS = {"ok": "green", "quarantine": "yellow", "fail": "bold red"}


@user_errors
def validate(config: Config = DEFAULT_CONFIG, as_of: AsOf = None, as_json: AsJson = False) -> None:
    """Check every source against its contract and its age on the as-of date; exit 1 if a
    run would stop (a source fails, or too many listed persons would rest on stale data)."""
    from flows import clock
    from flows.validation import validate_all

    settings, day = load_dated(config, as_of)
    result = validate_all(settings, clock.today(settings.timezone), day)
    if as_json:
        emit_json(validation_json(result, settings))
    else:
        _show(result, settings, day)
    if result.failed or result.stale_stops:
        raise typer.Exit(1)


def age_days(report: SourceReport, day: date) -> int | None:
    """Days from a source's newest row to ``day``: its SourceAge for a partner source."""
    if report.age is not None:
        return report.age.age_days
    return None if report.newest is None else (day - report.newest).days


def validation_json(result: Validation, settings: Settings) -> dict[str, Any]:
    """The machine-readable verdict: one entry per source, ages against max_age_days."""
    sources = []
    for r in result.reports:
        sources.append(
            {
                "source": r.source,
                "path": r.path,
                "rows": r.rows,
                "refused": r.refused,
                "duplicates": r.duplicates,
                "policy": r.policy,
                "verdict": r.verdict,
                "reasons": r.reasons,
                "warnings": r.warnings,
                "error": r.error,
                "newest": r.newest.isoformat() if r.newest else None,
                "age_days": age_days(r, result.as_of),
                "max_age_days": r.age.max_age_days if r.age else None,
                "stale": r.stale if r.age else None,
            }
        )
    return {
        "data_dir": str(settings.data_dir),
        "as_of": result.as_of.isoformat(),
        "ok": not (result.failed or result.stale_stops),
        "failed": result.failed,
        "stale": {
            "sources": [r.source for r in result.stale],
            "may_be_listed": result.may_be_listed,
            "covered_by_stale": result.covered_by_stale,
            "share": result.stale_share,
            "limit": result.limit,
            "stops": result.stale_stops,
        },
        "sources": sources,
    }


def _show(result: Validation, settings: Settings, day: date) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"Sources in {settings.data_dir}"))
    for column in ("source", "rows", "refused", "duplicates", "policy", "verdict"):
        table.add_column(
            column, justify="right" if column in ("rows", "refused", "duplicates") else "left"
        )
    for r in result.reports:
        table.add_row(escape(r.source), f"{r.rows:,}", f"{r.refused:,}", f"{r.duplicates:,}",
                      r.policy, f"[{COLOURS[r.verdict]}]{r.verdict}[/]")  # fmt: skip
    out.print(table)
    ages = Table(title=f"Age of the data on {day.isoformat()}")
    for column in ("source", "newest row", "days old", "allowed", "age"):
        ages.add_column(column, justify="right" if column in ("days old", "allowed") else "left")
    for r in result.reports:
        if r.newest is None and r.age is None:
            continue  # undated (contacts, indicators) or unread (its error is below)
        days = age_days(r, day)
        allowed = str(r.age.max_age_days) if r.age else ""
        verdict = "" if r.age is None else "[bold yellow]stale[/]" if r.stale else "[green]fresh[/]"
        ages.add_row(escape(r.source), r.newest.isoformat() if r.newest else "none",
                     "" if days is None else f"{days:,}", allowed, verdict)  # fmt: skip
    out.print(ages)
    _show_details(result)
    _show_verdict(result, day)


def _show_details(result: Validation) -> None:
    from rich.markup import escape

    for r in result.reports:
        for reason, n in r.reasons.items():
            rows = "row" if n == 1 else "rows"
            out.print(
                f"  {r.source}: {n:,} {rows} refused: {reason}", markup=False, highlight=False
            )
        for warning in r.warnings:
            out.print(f"  {r.source}: warning: {warning}", style="yellow", markup=False,
                      highlight=False)  # fmt: skip
        if r.stale and r.age is not None:
            out.print(f"  stale: {r.age.describe()}", style="yellow", markup=False,
                      highlight=False, soft_wrap=True)  # fmt: skip
        if r.error:
            console.print(f"[bold red]Error:[/] {escape(r.error)}", highlight=False, soft_wrap=True)


def _show_verdict(result: Validation, day: date) -> None:
    from rich.markup import escape

    share = result.stale_share
    if result.stale and share is not None:
        out.print(
            f"Stale data: {result.covered_by_stale:,} of the {result.may_be_listed:,} persons "
            f"who may be listed on {day.isoformat()} ({share:.0%}) consented to a stale source, "
            "and would be flagged stale_data if listed. A run stops when more than "
            f"{result.limit:.0%} of its listed persons are (outreach.max_stale_share)"
            + (": this one likely would." if result.stale_stops else ": this one would go on."),
            style="bold red" if result.stale_stops else "yellow",
            highlight=False,
            soft_wrap=True,
        )
    failed = result.failed
    if failed:
        console.print(
            f"{len(failed)} source(s) would stop a run: {escape(', '.join(failed))}.",
            highlight=False,
            soft_wrap=True,
        )
    if result.stale_stops:
        console.print(
            "Stale data would stop a run: ask the partners for fresh extracts, or choose an "
            "earlier --as-of.",
            highlight=False,
            soft_wrap=True,
        )
