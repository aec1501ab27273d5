"""``ennakko funnel``: the reach and consent funnel, suppressed, in Finnish and English."""

from __future__ import annotations

import os
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
    sqlite = settings.workspace / "portal" / "db.sqlite3"
    if not os.environ.get("PORTAL_DATABASE_URL") and not sqlite.exists():
        return None
    os.environ["ENNAKKO_CONFIG"] = str(settings.config_path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    from features.errors import SourceError

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise SourceError("portal settings", str(exc)) from None
    from django.db import DatabaseError

    from portal.counts import table

    try:
        return table(since, until)
    except DatabaseError as exc:  # unreachable, or never migrated
        raise SourceError(
            "portal database",
            f"cannot be read ({type(exc).__name__}), so the funnel was not written.",
            hint="Start the portal once (`ennakko portal`) or check PORTAL_DATABASE_URL.",
        ) from None


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
    registration with the reasons why not, by week, area, age band, language and team,
    and representativeness against the area population (Paavo). Small cells are hidden,
    with the cells that would reveal them; Markdown (fi, en) and one HTML page."""
    from flows.context import start as start_run
    from flows.funnel import facts, population
    from outreach.funnel import build, partner_flow, portal_weekly, representativeness
    from outreach.funnel_page import LANGS, markdown, page

    settings = prepare(load(config))
    ctx = start_run(str(config), parse_as_of(end), "funnel", settings=settings)
    min_cell = settings.privacy.min_cell_size
    persons, asked = facts(ctx, parse_as_of(start))
    f = build(persons, ctx.as_of, min_cell)
    rep = representativeness(f, population(ctx))
    partners = partner_flow(asked, min_cell)
    daily = portal_counts(settings, parse_as_of(start), ctx.as_of)
    portal = None if daily is None else portal_weekly(daily, min_cell)
    folder = (out_dir or ctx.ws.path("reports", "funnel")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    day = ctx.as_of.isoformat()
    for lang in LANGS:
        ctx.ws.write_text(
            folder / f"funnel.{lang}.md", markdown(f, rep, partners, portal, lang, day)
        )
    ctx.ws.write_text(folder / "funnel.html", page(f, rep, partners, portal, day))
    out.print(f"Wrote the funnel on {day} to {folder}")
