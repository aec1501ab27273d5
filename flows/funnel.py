"""The funnel's facts, read at the edge: the consent gate as the nightly runs it, the
night's stored scores (scored, listed), the counsellors' decisions (contacted), the
outcomes extract (registered later) and the young population per area and per age band
(Paavo: ``youth_18_29``; ``youth_18_19``, ``youth_20_24``, ``youth_25_29``, or the raw
Paavo counts they come from). :mod:`outreach.funnel` turns them into publishable tables.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from features.requests import partner_requests
from features.sources import Inputs
from flows import pipeline
from flows.decisions import load_reviews
from flows.privacy import erased_ids
from flows.run import RunContext
from outreach.funnel import FACT_COLUMNS

POPULATION_INDICATOR = "youth_18_29"
# Age band -> the derived Paavo indicator, and the raw Paavo count it is read from (a
# Paavo export configured as it is, without derive_paavo_rates, carries only the raw).
BAND_INDICATORS = {
    "18-19": ("youth_18_19", "18_19_years_he"),
    "20-24": ("youth_20_24", "20_24_years_he"),
    "25-29": ("youth_25_29", "25_29_years_he"),
}


def _printed(consents: pl.DataFrame) -> pl.DataFrame:
    """internal person_id -> the pseudonym lists and outcomes carry (second layer aside)."""
    col = "list_person_id" if "list_person_id" in consents.columns else "person_id"
    return consents.select("person_id", printed=pl.col(col)).unique("person_id")


def _scores(ctx: RunContext) -> pl.DataFrame:
    path = ctx.ws.path("scores", f"{ctx.as_of.isoformat()}.parquet")
    if not path.exists():
        return pl.DataFrame(schema={"person_id": pl.String, "listed": pl.Boolean})
    return pl.read_parquet(path).select("person_id", "listed")


def _asked_contact(ctx: RunContext, inputs: Inputs) -> pl.Series:
    """Persons who asked to be contacted on or before the run date."""
    requests = inputs.contact_requests
    return requests.filter(pl.col("requested_at") <= ctx.as_of)["person_id"].unique()


def _registered(ctx: RunContext, outcomes: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """Persons registered as unemployed within the horizon after the run date, and whether
    the outcomes extract reaches the horizon's end (if not, the others are unknown)."""
    horizon_end = ctx.as_of + timedelta(days=ctx.settings.labels.horizon_days)
    within = outcomes.filter(
        (pl.col("registered_at") > ctx.as_of) & (pl.col("registered_at") <= horizon_end)
    )
    known = outcomes.height > 0 and outcomes["registered_at"].max() >= horizon_end
    return within.select("person_id").unique().with_columns(reg=pl.lit(True)), known


def facts(ctx: RunContext, start: date | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The sources read and the consent gate run as the nightly does, then :func:`assemble`."""
    inputs = pipeline.validate_sources(ctx)
    return assemble(ctx, inputs, pipeline.gate_on_run_date(ctx, inputs), start)


def assemble(
    ctx: RunContext, inputs: Inputs, g: pipeline.Gate, start: date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per person with a consent given on or before the run date (and on or after
    ``start``), in :data:`outreach.funnel.FACT_COLUMNS`; and :func:`partner_facts`."""
    state = g.state.filter(pl.col("as_of") == ctx.as_of)
    if start is not None:
        state = state.filter(pl.col("given_at") >= start)
    cohort = g.cohort.filter(pl.col("as_of") == ctx.as_of).select("person_id")
    clients = state.filter(pl.col("can_score")).join(cohort, on="person_id", how="anti")
    scores = _scores(ctx)
    decisions = load_reviews(ctx).select(printed="person_id", decision="decision")
    decided = decisions.group_by("printed").agg(contacted=(pl.col("decision") == "contacted").any())
    registered, known = _registered(ctx, inputs.outcomes)
    channel = inputs.consents.select("consent_id", pl.col("channel").cast(pl.String))
    frame = (
        state.join(_printed(inputs.consents), on="person_id", how="left")
        .join(channel, on="consent_id", how="left")
        .join(scores.with_columns(scored=pl.lit(True)), on="person_id", how="left")
        .join(decided.with_columns(decided=pl.lit(True)), on="printed", how="left")
        .join(registered, on="person_id", how="left")
        .with_columns(
            client=pl.col("person_id").is_in(clients["person_id"].implode()),
            scored=pl.col("scored").fill_null(False),
            listed=pl.col("listed").fill_null(False),
            decided=pl.col("decided").fill_null(False),
            contacted=pl.col("contacted").fill_null(False),
            registered=pl.col("reg").fill_null(False) if known else pl.col("reg"),
            asked_contact=pl.col("person_id").is_in(_asked_contact(ctx, inputs).implode()),
        )
    )
    sources = [f"source_{p}" for p in ctx.settings.partners if f"source_{p}" in frame.columns]
    persons = frame.select(
        *(pl.col(c).cast(t) for c, t in FACT_COLUMNS.items()), *(pl.col(c) for c in sources)
    )
    return persons, partner_facts(ctx, inputs)


def partner_facts(ctx: RunContext, inputs: Inputs) -> pl.DataFrame:
    """Per partner source, each person it was asked about up to the run date (as the
    nightly asks) and whether it returned rows of theirs (row-level data obtained)."""
    s = ctx.settings
    consents = inputs.consents
    if "list_person_id" in consents.columns:  # requests name the register's pseudonyms
        consents = consents.with_columns(person_id=pl.col("list_person_id"))
    erased = erased_ids(ctx.ws, consents, ctx.keys.audit)
    asked = partner_requests(
        consents, ctx.as_of, ctx.today, s.consent, s.partners, erased, earlier=True
    )
    printed = _printed(inputs.consents)
    with_rows = inputs.events.select(
        pl.col("source").cast(pl.String), person_id=inputs.register.gather(inputs.events["person"])
    ).unique()
    with_rows = with_rows.join(printed, on="person_id").select("source", "printed")
    frames = [
        pl.DataFrame({"source": source, "printed": sorted(r.persons)}, schema=PARTNER_SCHEMA)
        for source, r in asked.items()
    ]
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=PARTNER_SCHEMA)
    rows = with_rows.with_columns(rows=pl.lit(True))
    return frame.join(rows, on=["source", "printed"], how="left").select(
        "source", person_id="printed", rows=pl.col("rows").fill_null(False)
    )


PARTNER_SCHEMA = {"source": pl.String, "printed": pl.String}


def log_weekly(ctx: RunContext, inputs: Inputs, g: pipeline.Gate, run_id: str) -> dict[str, float]:
    """On Mondays, the funnel's overall published counts (``funnel_<step>``,
    ``funnel_<step>_<reason>``, ``funnel_partner_<source>_<cell>``) added to the night's
    MLflow run; hidden cells are left out. Returns what was logged."""
    if ctx.as_of.weekday() != 0:
        return {}
    from flows.tracking import registry_for

    try:
        metrics = _weekly_metrics(ctx, inputs, g)
        client = registry_for(ctx).client
        for name, value in metrics.items():
            client.log_metric(run_id, name, value)
    except Exception as exc:  # the lists are published already; the funnel can wait a week
        ctx.say(f"the funnel was not logged to MLflow this week ({type(exc).__name__})")
        return {}
    return metrics


def _weekly_metrics(ctx: RunContext, inputs: Inputs, g: pipeline.Gate) -> dict[str, float]:
    """The overall figures only: the breakdowns stay in the command's files."""
    from outreach.funnel import build, partner_flow

    min_cell = ctx.settings.privacy.min_cell_size
    persons, asked = assemble(ctx, inputs, g)
    f = build(persons, ctx.as_of, min_cell)
    metrics = {
        f"funnel_{_slug(k)}": float(v) for k, v in f.shown.items() if "|" not in k and v is not None
    }
    for row in partner_flow(asked, min_cell).iter_rows(named=True):
        source = row.pop("source")
        metrics |= {
            f"funnel_partner_{_slug(source)}_{_slug(k)}": float(v)
            for k, v in row.items()
            if v is not None
        }
    return metrics


def _slug(text: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def population(ctx: RunContext) -> pl.DataFrame:
    """The young population (18-29) per postal code, latest period (Paavo)."""
    return area_population(pipeline.load_indicator_table(ctx))


def _latest(table: pl.DataFrame, indicator: str) -> pl.DataFrame:
    """One indicator per postal code in its latest period."""
    rows = table.filter(
        (pl.col("indicator") == indicator) & (pl.col("area_level") == "postal_code")
    )
    return rows.filter(pl.col("period") == pl.col("period").max())


def area_population(table: pl.DataFrame) -> pl.DataFrame:
    """``youth_18_29`` per postal code, or the sum of its three raw Paavo bands."""
    latest = _latest(table, POPULATION_INDICATOR)
    if latest.is_empty():
        bands = band_frames(table)
        if not bands:
            return pl.DataFrame(schema={"area": pl.String, "population": pl.Float64})
        latest = pl.concat(bands).group_by("area_code").agg(value=pl.col("value").sum())
    return latest.select(area="area_code", population=pl.col("value").cast(pl.Float64))


def band_frames(table: pl.DataFrame) -> list[pl.DataFrame]:
    """Per age band with a Paavo figure, its count per postal code (latest period): the
    derived indicator where the table has it, else the raw Paavo count; [] unless all
    three bands are found (a partial 18-29 would distort every share)."""
    out = []
    for band, names in BAND_INDICATORS.items():
        found = [f for f in (_latest(table, n) for n in names) if not f.is_empty()]
        if not found:
            return []
        out.append(found[0].select("area_code", "value", age_band=pl.lit(band)))
    return out


def band_population(ctx: RunContext) -> pl.DataFrame:
    """The population per age band over all postal codes (Paavo: 18-19, 20-24, 25-29);
    empty when the indicator table holds no band figures."""
    return population_by_band(pipeline.load_indicator_table(ctx))


def population_by_band(table: pl.DataFrame) -> pl.DataFrame:
    """:func:`band_population` on an indicator table in the long form."""
    bands = band_frames(table)
    if not bands:
        return pl.DataFrame(schema={"age_band": pl.String, "population": pl.Float64})
    summed = pl.concat(bands).group_by("age_band").agg(population=pl.col("value").sum())
    return summed.sort("age_band").with_columns(pl.col("population").cast(pl.Float64))
