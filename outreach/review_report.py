"""What counsellors' decisions add up to: the automation-bias watch and later outcomes.

Only the latest decision per person and list counts (a correction replaces the earlier
one). Counts under ``min_cell`` and shares whose numerator or denominator is under it are
suppressed (:mod:`outreach.cells`): a share of 1 in 12 would point at one person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from outreach.cells import count_expr, counts, share, share_expr
from outreach.decisions import CODES
from outreach.effect import Effect, Plan, analyse, effect_table, outcome_rows
from outreach.reviews import current, with_history_columns


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
        .when(pl.col("rank") == 0).then(pl.lit("asked"))  # asked to be contacted: not ranked
        .when(pl.col("rank") <= 5).then(pl.lit("rank 1-5"))
        .when(pl.col("rank") <= 15).then(pl.lit("rank 6-15"))
        .otherwise(pl.lit("rank 16+")),
    )  # fmt: skip

    def table(by: Sequence[str]) -> pl.DataFrame:
        wide = (
            counted.group_by(*by)
            .agg(
                decisions=pl.len(),
                **{code: (pl.col("decision") == code).sum() for code in CODES},
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


def holdout_analysis(
    draws: pl.DataFrame,
    outcomes: pl.DataFrame,
    horizon_days: int,
    observed_until: date,
    min_cell: int,
    max_half_width: float,
) -> tuple[pl.DataFrame, Effect]:
    """The pre-registered analysis of the hold-out (docs/holdout-analysis-plan.md): the
    CONSORT flow of the draws and the effect with its interval, MDE and verdict.

    An outcome is known when the draw's horizon has passed and the outcomes extract
    reaches its end (its latest registration day, a conservative reading; an empty
    extract reaches no horizon).
    """
    until = outcomes["registered_at"].max() if outcomes.height else date.min
    rows = outcome_rows(draws, outcomes, horizon_days, observed_until, until)  # type: ignore[arg-type]
    return analyse(rows, min_cell, max_half_width)


def holdout_effect(
    draws: pl.DataFrame,
    outcomes: pl.DataFrame,
    horizon_days: int,
    observed_until: date,
    min_cell: int,
    max_half_width: float,
    plan: Plan,
) -> dict[str, pl.DataFrame]:
    """:func:`holdout_analysis` as the report's tables (the flow; the effect as text)."""
    flow, effect = holdout_analysis(
        draws, outcomes, horizon_days, observed_until, min_cell, max_half_width
    )
    return {"hold_out_flow": flow, "hold_out_effect": effect_table(effect, plan)}
