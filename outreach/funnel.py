"""The reach and consent funnel: facts about persons in, publishable tables out.

One row per person who has given a consent (the consents extract), with what happened to
them on the way to a list: consent still valid, may be scored, not already a client,
scored, listed, contacted (a counsellor's decision), registered as unemployed later. Each
person stops at one step for one reason (the first that holds), so every step's count is
the previous step's minus the counted reasons why not, overall and in every group (week
of consent, channel, area, age band, language, team, asked to be contacted). Among the
persons at "consent given", consent per purpose and per partner source
(:mod:`outreach.funnel_purposes`) is counted in the same groups.

Small counts are hidden with complementary suppression (:func:`outreach.effect.suppress_flow`):
every equation the tables print (a step = the next step + its reasons; consent given = a
purpose given + not given; a total = the sum of its groups) has none or at least two
hidden cells, all in one suppression, so no hidden figure follows by
subtraction. Representativeness is computed from published figures only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from outreach.cells import publishable
from outreach.effect import suppress_flow
from outreach.funnel_purposes import (
    Purposes,
    new_cells,
    purpose_by_group,
    purpose_equations,
    purpose_table,
    purpose_values,
    purposes_of,
)

# (step, its reasons why not, in the order they are tested)
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("consent given", ("withdrawn", "expired", "erased", "invalid notice", "no scoring consent")),
    ("may be scored", ("already a client",)),
    ("in the cohort", ("no rows: not scored",)),
    ("scored", ("no contact consent", "below the cut-off")),
    ("listed", ("no decision recorded", "not reached or declined")),
    ("contacted", ("outcome not known yet", "not registered")),
    ("registered as unemployed later", ()),
)
STEP_NAMES = tuple(s for s, _ in STEPS)
DIMENSIONS = ("week", "channel", "area", "age_band", "language", "team", "asked_contact")
UNKNOWN = "unknown"
WEEKS = 12  # weeks of consent shown one by one; earlier ones in one group
# Paavo's bands within 18-29 (18-19, 20-24, 25-29 year-olds per postal area); under 18
# Paavo publishes no band Ennakko reads, so 15-17 has no population figure.
AGE_BANDS = ((0, 17, "15-17"), (18, 19, "18-19"), (20, 24, "20-24"), (25, 29, "25-29"))
OUTSIDE_AGES = "outside 15-29"

# Facts columns the builder needs (flows.funnel gathers them).
FACT_COLUMNS = {
    "person_id": pl.String,
    "status": pl.String,
    "can_score": pl.Boolean,
    "can_contact": pl.Boolean,
    "client": pl.Boolean,
    "scored": pl.Boolean,
    "listed": pl.Boolean,
    "decided": pl.Boolean,
    "contacted": pl.Boolean,
    "registered": pl.Boolean,  # null: outcome not known yet
    "given_at": pl.Date,
    "birth_year": pl.Int64,
    "postal_code": pl.String,
    "language": pl.String,
    "team": pl.String,
    "asked_contact": pl.Boolean,  # asked to be contacted (contact requests) by the date
    "channel": pl.String,  # recruitment channel of the deciding consent
}
# Facts may carry one more boolean per partner, ``source_<name>`` (its rows may be used).


def suppress(
    values: dict[str, int], eqs: list[tuple[str, tuple[str, ...]]], min_cell: int
) -> dict[str, int | None]:
    """:func:`outreach.effect.suppress_flow`, taking zeros as complements only when no
    other cell will do: a hidden zero protects little, as readers guess "nobody"."""
    zeros = frozenset(k for k, v in values.items() if v == 0)
    return suppress_flow(values, tuple(eqs), min_cell, zeros)


def cell(step: str, reason: str | None = None) -> str:
    """A flow cell's key: a step, or a step's reason why not."""
    return step if reason is None else f"{step}: {reason}"


def stops(facts: pl.DataFrame) -> pl.DataFrame:
    """Each person's furthest step and the reason they went no further (null at the end)."""
    c = pl.col
    status = {"withdrawn": "withdrawn", "expired": "expired", "erased": "erased"}
    chain = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    rules = [
        *[(c("status") == k, STEP_NAMES[0], v) for k, v in status.items()],
        (c("status") == "invalid_notice", STEP_NAMES[0], "invalid notice"),
        (~c("can_score"), STEP_NAMES[0], "no scoring consent"),
        (c("client"), STEP_NAMES[1], "already a client"),
        (~c("scored"), STEP_NAMES[2], "no rows: not scored"),
        (~c("listed") & ~c("can_contact"), STEP_NAMES[3], "no contact consent"),
        (~c("listed"), STEP_NAMES[3], "below the cut-off"),
        (~c("decided"), STEP_NAMES[4], "no decision recorded"),
        (~c("contacted"), STEP_NAMES[4], "not reached or declined"),
        (c("registered").is_null(), STEP_NAMES[5], "outcome not known yet"),
        (~c("registered"), STEP_NAMES[5], "not registered"),
    ]
    step_expr, reason_expr = chain, chain
    for cond, step, reason in rules:
        step_expr = step_expr.when(cond).then(pl.lit(step))
        reason_expr = reason_expr.when(cond).then(pl.lit(reason))
    return facts.with_columns(
        stop=step_expr.otherwise(pl.lit(STEP_NAMES[-1])), reason=reason_expr.otherwise(None)
    )


def with_groups(facts: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The grouping columns: ISO week of the consent (the last :data:`WEEKS` weeks each,
    earlier ones together), channel, area, age band (outside 15-29 said so), language,
    team, asked to be contacted."""
    age = pl.lit(as_of.year) - pl.col("birth_year")
    band = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    for low, high, label in AGE_BANDS:
        band = band.when(age.is_between(low, high)).then(pl.lit(label))
    first = as_of - timedelta(days=as_of.weekday() + 7 * (WEEKS - 1))
    week = (
        pl.when(pl.col("given_at") < first)
        .then(pl.lit(f"< {first.strftime('%G-W%V')}"))
        .otherwise(pl.col("given_at").dt.strftime("%G-W%V"))
    )
    return facts.with_columns(
        week=week,
        area=pl.col("postal_code"),
        age_band=band.otherwise(pl.when(age.is_not_null()).then(pl.lit(OUTSIDE_AGES))),
        asked_contact=pl.when(pl.col("asked_contact")).then(pl.lit("yes")).otherwise(pl.lit("no")),
    ).with_columns(pl.col(d).cast(pl.String).fill_null(UNKNOWN) for d in DIMENSIONS)


def flow_values(frame: pl.DataFrame) -> dict[str, int]:
    """Step and reason counts of persons in ``frame`` (with :func:`stops` columns)."""
    counted = {(s, r): n for s, r, n in frame.group_by("stop", "reason").len().iter_rows()}
    out: dict[str, int] = {}
    for i, (step, reasons) in enumerate(STEPS):
        out[cell(step)] = sum(n for (s, _), n in counted.items() if s in STEP_NAMES[i:])
        out |= {cell(step, r): counted.get((step, r), 0) for r in reasons}
    return out


def equations(prefix: str = "") -> list[tuple[str, tuple[str, ...]]]:
    """The flow's equations: each step = the next step + its reasons why not."""
    out = []
    for i, (step, reasons) in enumerate(STEPS[:-1]):
        children = (cell(STEP_NAMES[i + 1]), *(cell(step, r) for r in reasons))
        out.append((prefix + cell(step), tuple(prefix + c for c in children)))
    return out


def key(dimension: str, group: str, name: str) -> str:
    return f"{dimension}={group}|{name}"


@dataclass
class Funnel:
    """The published funnel: every cell's value or None (suppressed), the groups, and the
    purposes counted at "consent given" (:mod:`outreach.funnel_purposes`)."""

    shown: dict[str, int | None]
    groups: dict[str, list[str]]
    min_cell: int
    purposes: Purposes = ()


TOTAL, SCORED = STEP_NAMES[0], STEP_NAMES[1]  # consent given; may be scored


def _values(frame: pl.DataFrame, purposes: Purposes) -> dict[str, int]:
    """A group's flow counts and its purpose counts."""
    flow = flow_values(frame)
    return flow | purpose_values(frame, purposes, flow, cell(TOTAL), cell(SCORED))


def _equations(purposes: Purposes, prefix: str = "") -> list[tuple[str, tuple[str, ...]]]:
    """A group's flow equations and its purpose equations."""
    first = tuple(cell(TOTAL, r) for r in STEPS[0][1])
    return equations(prefix) + purpose_equations(purposes, cell(TOTAL), cell(SCORED), first, prefix)


def build(facts: pl.DataFrame, as_of: date, min_cell: int) -> Funnel:
    """The funnel and the purposes overall and by every dimension, suppressed jointly."""
    purposes = purposes_of(facts)
    frame = stops(with_groups(facts, as_of))
    values = _values(frame, purposes)
    groups: dict[str, list[str]] = {}
    for d in DIMENSIONS:
        groups[d] = sorted(frame[d].unique().to_list())
        for (g,), part in frame.group_by(d, maintain_order=True):
            values |= {key(d, str(g), k): v for k, v in _values(part, purposes).items()}
    f = Funnel({}, groups, min_cell, purposes)
    f.shown = suppress(values, all_equations(f), min_cell)
    return f


def flow_table(f: Funnel, dimension: str | None = None, group: str | None = None) -> pl.DataFrame:
    """The CONSORT flow of one group (or overall) as rows of step, reason, persons."""
    prefix = "" if dimension is None else key(dimension, group or "", "")
    rows = []
    for step, reasons in STEPS:
        rows.append((step, None, f.shown[prefix + cell(step)]))
        rows += [(step, r, f.shown[prefix + cell(step, r)]) for r in reasons]
    return pl.DataFrame(
        rows, schema={"step": pl.String, "reason": pl.String, "persons": pl.Int64}, orient="row"
    )


def by_group(f: Funnel, dimension: str) -> pl.DataFrame:
    """One row per group of ``dimension``, one column per step (null: suppressed)."""
    rows = [
        {dimension: g, **{s: f.shown[key(dimension, g, s)] for s in STEP_NAMES}}
        for g in f.groups[dimension]
    ]
    schema = {dimension: pl.String, **{s: pl.Int64 for s in STEP_NAMES}}
    return pl.DataFrame(rows, schema=schema)


def representativeness(f: Funnel, population: pl.DataFrame) -> pl.DataFrame:
    """Persons who may be scored per area against the area's young population (Paavo):
    counts, shares of each total and their ratio (1: as many as the population suggests).
    Only published counts enter; a suppressed area has no share or ratio."""
    consenting = by_group(f, "area").select("area", persons=pl.col(SCORED))
    total = f.shown[cell(SCORED)]
    pop = population.select(pl.col("area").cast(pl.String), pl.col("population").cast(pl.Float64))
    joined = consenting.join(pop, on="area", how="full", coalesce=True).with_columns(
        # An area nobody consenting lives in has 0 persons, not a hidden count.
        persons=pl.when(pl.col("area").is_in(f.groups["area"])).then("persons").otherwise(0)
    )
    pop_total = float(pop["population"].sum() or 0.0)
    out = joined.with_columns(
        consent_share=pl.col("persons") / total if total else pl.lit(None, pl.Float64),
        population_share=pl.col("population") / pop_total if pop_total else None,
    ).with_columns(
        ratio=pl.when(pl.col("population_share") > 0).then(
            pl.col("consent_share") / pl.col("population_share")
        )
    )
    return out.sort("area")


BAND_SCHEMA = {
    "age_band": pl.String,
    "persons": pl.Int64,
    "population": pl.Float64,
    "consent_share": pl.Float64,
    "population_share": pl.Float64,
    "ratio": pl.Float64,
}


def representativeness_by_band(f: Funnel, population: pl.DataFrame) -> pl.DataFrame:
    """Persons who may be scored per age band against the band's population summed over
    the areas (Paavo: ``age_band``, ``population``). Shares are of the bands that have a
    population figure (18-29), computed only when all their counts are published; 15-17
    has none (Paavo publishes no such band), so it has persons and nothing else."""
    shown = {g: f.shown.get(key("age_band", g, cell(SCORED))) for g in f.groups["age_band"]}
    pop = {
        str(b): float(v)
        for b, v in population.select("age_band", "population").iter_rows()
        if v is not None
    }
    with_pop = [label for _, _, label in AGE_BANDS if label in pop]
    counts = [shown.get(label, 0) for label in with_pop]
    total = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
    pop_total = sum(pop[b] for b in with_pop)
    rows = []
    for _, _, label in AGE_BANDS:
        n, people = shown.get(label, 0), pop.get(label)
        c_share = n / total if total and n is not None and people is not None else None
        p_share = people / pop_total if people is not None and pop_total else None
        ratio = c_share / p_share if c_share is not None and p_share else None
        rows.append((label, n, people, c_share, p_share, ratio))
    return pl.DataFrame(rows, schema=BAND_SCHEMA, orient="row")


PARTNER_CELLS = ("asked about", "rows returned", "no rows")


def partner_flow(frame: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """Per partner source: persons it was asked about = persons it returned rows for +
    persons without rows (can row-level data be obtained?), suppressed per source."""
    out = []
    for source in sorted(frame["source"].unique().to_list()):
        part = frame.filter(pl.col("source") == source)
        got = int(part["rows"].sum())
        values = dict(zip(PARTNER_CELLS, (part.height, got, part.height - got), strict=True))
        shown = suppress(values, [(PARTNER_CELLS[0], PARTNER_CELLS[1:])], min_cell)
        out.append({"source": source, **shown})
    schema = {"source": pl.String, **{c: pl.Int64 for c in PARTNER_CELLS}}
    return pl.DataFrame(out, schema=schema)


PORTAL_STEPS = ("arrival", "notice", "login", "consent", "contact_request", "withdrawal", "erasure")
ALL_CHANNELS = "all"


def portal_weekly(daily: pl.DataFrame, min_cell: int) -> pl.DataFrame:
    """The consent service's counts (``portal.counts.table()``: day, channel, one column
    per step) per ISO week and channel, with an all-channels row per week; small counts
    hidden, with complementary suppression across each week's channels."""
    steps = [s for s in PORTAL_STEPS if s in daily.columns]
    weekly = (
        daily.with_columns(week=pl.col("day").dt.strftime("%G-W%V"))
        .group_by("week", "channel")
        .agg(pl.col(s).sum() for s in steps)
        .sort("week", "channel")
    )
    values: dict[str, int] = {}
    eqs = []
    for week in weekly["week"].unique().sort().to_list():
        part = weekly.filter(pl.col("week") == week)
        channels = part["channel"].to_list()
        for s in steps:
            values[f"{week}|{ALL_CHANNELS}|{s}"] = int(part[s].sum())
            values |= {f"{week}|{c}|{s}": int(v) for c, v in zip(channels, part[s], strict=True)}
            eqs.append((f"{week}|{ALL_CHANNELS}|{s}", tuple(f"{week}|{c}|{s}" for c in channels)))
    shown = suppress(values, eqs, min_cell)
    rows: dict[tuple[str, str], dict[str, int | None]] = {}
    for k, v in shown.items():
        week, channel, step = k.split("|")
        rows.setdefault((week, channel), {})[step] = v
    schema = {"week": pl.String, "channel": pl.String, **{s: pl.Int64 for s in steps}}
    return pl.DataFrame(
        [{"week": w, "channel": c, **v} for (w, c), v in sorted(rows.items())], schema=schema
    )


def recoverable(shown: dict[str, int | None], eqs: list[tuple[str, tuple[str, ...]]]) -> list:
    """Equations from which a hidden cell follows by subtraction (one hidden): for tests."""
    return [(p, ch) for p, ch in eqs if sum(shown[c] is None for c in (p, *ch)) == 1]


def all_equations(f: Funnel) -> list[tuple[str, tuple[str, ...]]]:
    """Every equation the published tables carry (flow and purposes, overall, in every
    group, and each cell's total = the sum of its groups)."""
    eqs = _equations(f.purposes)
    cells = [*_cells(), *new_cells(f.purposes)]
    for d, names in f.groups.items():
        for g in names:
            eqs += _equations(f.purposes, key(d, g, ""))
        eqs += [(c, tuple(key(d, g, c) for g in names)) for c in cells]
    return eqs


def _cells() -> list[str]:
    return [cell(s, r) for s, reasons in STEPS for r in (None, *reasons)]


def purposes(f: Funnel, dimension: str | None = None, group: str | None = None) -> pl.DataFrame:
    """Consent per purpose of one group (or overall): purpose, given, not given."""
    prefix = "" if dimension is None else key(dimension, group or "", "")
    return purpose_table(f.shown, f.purposes, cell(SCORED), prefix)


def purposes_by_group(f: Funnel, dimension: str) -> pl.DataFrame:
    """Per group of ``dimension``: consent given, each purpose's given and not given."""
    prefixes = {g: key(dimension, g, "") for g in f.groups[dimension]}
    return purpose_by_group(f.shown, f.purposes, cell(SCORED), cell(TOTAL), dimension, prefixes)


def small_shown(f: Funnel) -> list[str]:
    """Published cells under the minimum (should be none)."""
    return [k for k, v in f.shown.items() if v is not None and not publishable(v, f.min_cell)]
