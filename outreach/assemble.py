"""Who goes on tomorrow's lists, in what order, and why each row needs a closer look.

A person is **eligible** on date D when their consent covers scoring and contact, they
are not already a client of a service (the cohort), they were not contacted within the
cool-down, and they did not decline within the decline window. Eligible persons are
ranked by calibrated risk within their team (ties by a stable hash, never input order)
and each team's list is cut at its capacity.

Every row still needs a counsellor's decision. Flags say where to look harder:

===================  ======================================================
``new``              not on this team's previous list
``score_change``     risk moved by more than the threshold since the last run
``near_cutoff``      within a few rows of the capacity cut-off
``stale_data``       a source the person consented to is missing or old
``consent_expiring`` the consent ends soon: ask whether to renew
``drift``            tonight's data drifted from the model's training data
``declined_before``  declined an earlier contact (outside the decline window)
===================  ======================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from models.metrics import rank_within
from outreach.spec import OutreachSpec

FLAGS = (
    "new",
    "score_change",
    "near_cutoff",
    "stale_data",
    "consent_expiring",
    "drift",
    "declined_before",
)
CONTACT_DECISIONS = ("contacted", "not_reached")
DECLINE_DECISIONS = ("declined", "not_appropriate")


@dataclass
class Exclusions:
    """Why eligible-by-consent persons were left off, for the manifest and the audit log."""

    cooldown: int
    declined: int
    no_contact_consent: int


def risk_band(probability: pl.Expr, spec: OutreachSpec) -> pl.Expr:
    return (
        pl.when(probability >= spec.bands.high)
        .then(pl.lit("high"))
        .when(probability >= spec.bands.medium)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def recent_decisions(reviews: pl.DataFrame, as_of: date, spec: OutreachSpec) -> pl.DataFrame:
    """Per person: contacted within the cool-down, declined within / before the window."""
    if reviews.is_empty():
        return pl.DataFrame(
            schema={
                "person_id": pl.String,
                "cooldown": pl.Boolean,
                "declined": pl.Boolean,
                "declined_before": pl.Boolean,
            }
        )
    past = reviews.filter(pl.col("decided_at") < as_of)
    cooldown_from = as_of - timedelta(days=spec.cooldown_days)
    decline_from = as_of - timedelta(days=spec.decline_days)
    return past.group_by("person_id").agg(
        cooldown=(
            pl.col("decision").is_in(CONTACT_DECISIONS) & (pl.col("decided_at") >= cooldown_from)
        ).any(),
        declined=(
            pl.col("decision").is_in(DECLINE_DECISIONS) & (pl.col("decided_at") >= decline_from)
        ).any(),
        declined_before=(
            pl.col("decision").is_in(DECLINE_DECISIONS) & (pl.col("decided_at") < decline_from)
        ).any(),
    )


def assemble(
    scored: pl.DataFrame,
    reviews: pl.DataFrame,
    previous: pl.DataFrame | None,
    stale_sources: Mapping[str, bool],
    drift_alert: bool,
    as_of: date,
    spec: OutreachSpec,
) -> tuple[pl.DataFrame, Exclusions]:
    """Rank eligible persons per team, cut at capacity and flag each row.

    Parameters
    ----------
    scored
        One row per cohort person on ``as_of``: person_id, as_of, team, probability,
        points, can_contact, expiring_soon, and ``source_<name>`` consent flags.
    reviews
        Decisions returned so far (person_id, decision, decided_at).
    previous
        The previous run's scores and lists (person_id, team, probability, listed) or None.
    stale_sources
        Partner name -> True when its newest row is older than allowed (or it is missing).
    """
    decisions = recent_decisions(reviews, as_of, spec)
    rows = scored.join(decisions, on="person_id", how="left").with_columns(
        pl.col("cooldown", "declined", "declined_before").fill_null(False)
    )
    exclusions = Exclusions(
        cooldown=int(rows.filter(pl.col("can_contact") & pl.col("cooldown")).height),
        declined=int(
            rows.filter(pl.col("can_contact") & ~pl.col("cooldown") & pl.col("declined")).height
        ),
        no_contact_consent=int(rows.filter(~pl.col("can_contact")).height),
    )
    eligible = rows.filter(pl.col("can_contact") & ~pl.col("cooldown") & ~pl.col("declined"))
    ranked = rank_within(eligible, "probability", ["team"])
    teams = ranked["team"].unique().sort().to_list()
    caps = pl.DataFrame(
        {"team": teams, "capacity": [spec.capacity.for_team(t) for t in teams]},
        schema={"team": pl.String, "capacity": pl.Int64},
    )
    listed = ranked.join(caps, on="team", how="left").filter(pl.col("rank") <= pl.col("capacity"))
    return _flag(listed, previous, stale_sources, drift_alert, spec), exclusions


def _flag(
    listed: pl.DataFrame,
    previous: pl.DataFrame | None,
    stale_sources: Mapping[str, bool],
    drift_alert: bool,
    spec: OutreachSpec,
) -> pl.DataFrame:
    if previous is not None and not previous.is_empty():
        prev = previous.select(
            "person_id",
            pl.col("probability").alias("previous_probability"),
            pl.col("listed").alias("was_listed"),
        )
        listed = listed.join(prev, on="person_id", how="left")
    else:
        listed = listed.with_columns(
            previous_probability=pl.lit(None, dtype=pl.Float64), was_listed=pl.lit(None, pl.Boolean)
        )
    stale = [p for p, is_stale in stale_sources.items() if is_stale]
    stale_expr = (
        pl.any_horizontal([pl.col(f"source_{p}") for p in stale]) if stale else pl.lit(False)
    )
    near = spec.flags.near_cutoff
    flags = {
        "new": ~pl.col("was_listed").fill_null(False),
        "score_change": (
            (pl.col("probability") - pl.col("previous_probability")).abs()
            >= spec.flags.score_change
        ).fill_null(False),
        "near_cutoff": (pl.col("rank") > pl.col("capacity") - near) if near else pl.lit(False),
        "stale_data": stale_expr,
        "consent_expiring": pl.col("expiring_soon"),
        "drift": pl.lit(drift_alert),
        "declined_before": pl.col("declined_before"),
    }
    listed = listed.with_columns([expr.alias(f"flag_{name}") for name, expr in flags.items()])
    return listed.with_columns(
        flags=pl.concat_str(
            [pl.when(pl.col(f"flag_{n}")).then(pl.lit(n)) for n in FLAGS],
            separator=",",
            ignore_nulls=True,
        )
    ).sort("team", "rank")
