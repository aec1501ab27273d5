"""``ennakko funnel``: the reach and consent funnel, suppressed, in Finnish and English."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import polars as pl

    from flows.settings import Settings

from flows.commands.common import (
    DEFAULT_CONFIG,
    Config,
    load,
    out,
    parse_as_of,
    prepare,
    user_errors,
)


def portal_counts(settings: Settings, since: date | None, until: date) -> pl.DataFrame | None:
    """The consent service's daily counts per channel and step, or None where no consent
    service runs (no PORTAL_DATABASE_URL and no demo database): Django loads only then."""
    from flows.commands.portal_db import portal_runs, read_portal

    if not portal_runs(settings):
        return None

    def read() -> pl.DataFrame:
        from portal.counts import table

        return table(since, until)

    return read_portal(settings, read, "the funnel was not written")


@user_errors
def funnel(
    config: Config = DEFAULT_CONFIG,
    start: Annotated[
        str | None, typer.Option("--from", help="Count consents given on or after this date.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="The date to count on (default: the run date).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the files (default: <workspace>/reports/funnel)."),
    ] = None,
) -> None:
    """Write the reach and consent funnel: a CONSORT-style flow from consent to later
    registration with the reasons why not, consent per purpose and partner source, by
    week, channel, area, age band, language, team and asked to be contacted, and
    representativeness by area and age band against the population (Paavo). Small cells
    are hidden, with the cells that would reveal them; Markdown (fi, en) and one HTML page."""
    from flows.context import start as start_run
    from flows.funnel import band_population, facts, population
    from outreach.funnel import (
        build,
        partner_flow,
        portal_weekly,
        representativeness,
        representativeness_by_band,
    )
    from outreach.funnel_page import LANGS, Report, markdown, page

    settings = prepare(load(config))
    ctx = start_run(str(config), parse_as_of(end), "funnel", settings=settings)
    min_cell = settings.privacy.min_cell_size
    persons, asked = facts(ctx, parse_as_of(start))
    f = build(persons, ctx.as_of, min_cell)
    daily = portal_counts(settings, parse_as_of(start), ctx.as_of)
    day = ctx.as_of.isoformat()
    report = Report(
        funnel=f,
        areas=representativeness(f, population(ctx)),
        bands=representativeness_by_band(f, band_population(ctx)),
        partners=partner_flow(asked, min_cell),
        portal=None if daily is None else portal_weekly(daily, min_cell),
        as_of=day,
        labels={name: spec.label.model_dump() for name, spec in settings.partners.items()},
    )
    folder = (out_dir or ctx.ws.path("reports", "funnel")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for lang in LANGS:
        ctx.ws.write_text(folder / f"funnel.{lang}.md", markdown(report, lang))
    ctx.ws.write_text(folder / "funnel.html", page(report))
    out.print(f"Wrote the funnel on {day} to {folder}")
