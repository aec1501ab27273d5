"""Who goes on tomorrow's lists, in what order, and why each row needs a closer look.

A person is **eligible** on date D when their consent covers scoring and contact, they
are not already a client of a service (the cohort), they were not contacted within the
cool-down, and they did not decline (nor were marked already helped elsewhere) within the
decline window. Eligible persons are
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

**Hold-out** (``outreach.holdout_share``, off by default). Whether outreach helps cannot
be read from the decisions alone: counsellors contact the persons they judge most likely
to benefit. With a share above zero, in each team with more eligible persons than places,
the persons ranked within ``holdout_margin`` rows of the capacity cut-off and never drawn
before are drawn at random (a stable hash of the pseudonym and the date, so a re-run
draws the same), and the held-out are left off the list for ``holdout_days``; the rows
below fill their places. Comparing later registrations of held-out and not-held-out
persons of the margin estimates the effect of eligibility for outreach near the cut-off,
free of counsellors' selection.

**Asked** (the portal's "contact me"). A person with an open contact request and a valid
contact consent is listed first on their team's list, in a section of its own
(``section = "asked"``, ``rank`` 0, sorted by ``requested_at``), outside the capacity and
the risk ranking: no scoring consent is needed, no score is shown, and cool-down, decline
window and hold-out do not apply (they asked). Who is asked is decided by the caller
(flows.lists); here they only take their place and leave the ranking to the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from models.metrics import rank_within
from outreach.decisions import CONTACT_DECISIONS, DECLINE_DECISIONS, ELSEWHERE_DECISIONS
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


@dataclass
class Exclusions:
    """Why eligible-by-consent persons were left off, for the manifest and the audit log."""

    cooldown: int
    declined: int
    no_contact_consent: int
    held_out: int = 0


# What an asked row needs (flows.lists.asked_persons builds it): the person, their team
# and consent expiry from the consent register, and the request.
ASKED_COLUMNS = {
    "person_id": pl.String,
    "team": pl.String,
    "requested_at": pl.Date,
    "method": pl.String,
    "language": pl.String,
    "situation": pl.String,
    "help_wanted": pl.String,
    "expires_at": pl.Date,
    "expiring_soon": pl.Boolean,
}


def risk_band(probability: pl.Expr, spec: OutreachSpec) -> pl.Expr:
    return (
        pl.when(probability >= spec.bands.high)
        .then(pl.lit("high"))
        .when(probability >= spec.bands.medium)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def rest_days(spec: OutreachSpec) -> dict[str, int]:
    """Days each decision keeps a person off the lists (what the guide sheet tells)."""
    return {
        **{code: spec.cooldown_days for code in CONTACT_DECISIONS},
        **{code: spec.decline_days for code in DECLINE_DECISIONS + ELSEWHERE_DECISIONS},
    }


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
            pl.col("decision").is_in(DECLINE_DECISIONS + ELSEWHERE_DECISIONS)
            & (pl.col("decided_at") >= decline_from)
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
    held_before: pl.DataFrame | None = None,
    asked: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, Exclusions, pl.DataFrame]:
    """Rank eligible persons per team, cut at capacity and flag each row; asked rows first.

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
    held_before
        Earlier hold-out draws (person_id, as_of, held_out) or None.
    asked
        Persons who asked to be contacted and may be (:data:`ASKED_COLUMNS`), or None.
        They come first, outside the capacity; the ranking leaves them out.

    Returns
    -------
    The listed rows (``section`` "asked" first, then "ranked"), the exclusion counts, and tonight's hold-out draws (empty when the
    hold-out is off): person_id, as_of, team, rank, probability, held_out, listed.
    """
    decisions = recent_decisions(reviews, as_of, spec)
    rows = scored.join(decisions, on="person_id", how="left").with_columns(
        pl.col("cooldown", "declined", "declined_before").fill_null(False)
    )
    rows = rows.with_columns(held=_still_held(rows["person_id"], held_before, as_of, spec))
    contactable = pl.col("can_contact") & ~pl.col("cooldown")
    asked = _asked_rows(asked, as_of)
    eligible = rows.filter(
        contactable
        & ~pl.col("declined")
        & ~pl.col("held")
        & ~pl.col("person_id").is_in(asked["person_id"].implode())
    )
    ranked = rank_within(eligible, "probability", ["team"])
    teams = pl.concat([ranked["team"], asked["team"]]).unique().sort().to_list()
    caps = pl.DataFrame(
        {"team": teams, "capacity": [spec.capacity.for_team(t) for t in teams]},
        schema={"team": pl.String, "capacity": pl.Int64},
    )
    ranked = ranked.join(caps, on="team", how="left")
    draws = draw_holdout(ranked, as_of, spec, _drawn_before(held_before, as_of))
    if draws.height:
        drawn = draws.filter(pl.col("held_out")).select("person_id")
        ranked = rank_within(
            ranked.join(drawn, on="person_id", how="anti").drop("rank"), "probability", ["team"]
        )
    exclusions = Exclusions(
        cooldown=int(rows.filter(pl.col("can_contact") & pl.col("cooldown")).height),
        declined=int(rows.filter(contactable & pl.col("declined")).height),
        no_contact_consent=int(rows.filter(~pl.col("can_contact")).height),
        held_out=int(rows.filter(contactable & ~pl.col("declined") & pl.col("held")).height)
        + int(draws["held_out"].sum()),
    )
    listed = ranked.filter(pl.col("rank") <= pl.col("capacity"))
    draws = draws.with_columns(listed=pl.col("person_id").is_in(listed["person_id"].implode()))
    ranked_rows = _flag(listed, previous, stale_sources, drift_alert, spec).with_columns(
        section=pl.lit("ranked")
    )
    if asked.height:
        asked = asked.join(caps, on="team", how="left")
        ranked_rows = pl.concat([asked, ranked_rows], how="diagonal_relaxed")
    return ranked_rows, exclusions, draws


def open_requests(
    requests: pl.DataFrame,
    state: pl.DataFrame,
    gone: pl.Series,
    reviews: pl.DataFrame,
    as_of: date,
) -> pl.DataFrame:
    """Persons with an open contact request who may be contacted on ``as_of`` (the
    ``asked`` argument of :func:`assemble`, :data:`ASKED_COLUMNS`).

    A request is open from ``requested_at`` until it is closed (``closed_at`` set, by the
    portal) or a decision about the person dated on or after the request is recorded in
    ``reviews`` (person_id as printed on the list: ``list_person_id`` when the requests
    carry a second-layer pseudonym). ``state`` is :func:`features.consent.consent_state` on
    ``as_of``: the person needs ``can_contact`` (not a scoring consent) and must not be in
    ``gone`` (withdrawn or erased by today); team and consent expiry come from it.
    """
    on_list = "list_person_id" if "list_person_id" in requests.columns else "person_id"
    pending = requests.filter(
        pl.col("closed_at").is_null() & (pl.col("requested_at") <= as_of)
    ).with_row_index("_request")
    decided = (
        pending.select("_request", pl.col(on_list).alias("_listed"), "requested_at")
        .join(
            reviews.select(pl.col("person_id").alias("_listed"), "decided_at"),
            on="_listed",
        )
        .filter(pl.col("decided_at") >= pl.col("requested_at"))
    )
    allowed = state.filter(
        pl.col("can_contact") & ~pl.col("person_id").is_in(gone.implode())
    ).select("person_id", "team", "expires_at", "expiring_soon")
    return (
        pending.join(decided.select("_request").unique(), on="_request", how="anti")
        .join(allowed, on="person_id")
        .select([pl.col(c).cast(t) for c, t in ASKED_COLUMNS.items()])
    )


def _asked_rows(asked: pl.DataFrame | None, as_of: date) -> pl.DataFrame:
    """The asked section: one row per person (their earliest open request), by request date.

    The request's ``language`` is the one they want to be contacted in
    (``contact_language``); no probability, band or risk flag, only ``consent_expiring``.
    """
    if asked is None or asked.is_empty():
        frame = pl.DataFrame(schema=ASKED_COLUMNS)
    else:
        frame = asked.with_columns(
            [pl.lit(None, t).alias(c) for c, t in ASKED_COLUMNS.items() if c not in asked.columns]
        ).select([pl.col(c).cast(t) for c, t in ASKED_COLUMNS.items()])
    frame = (
        frame.sort("requested_at", "person_id")
        .unique("person_id", keep="first", maintain_order=True)
        .rename({"language": "contact_language"})
    )
    soon = pl.col("expiring_soon").fill_null(False)
    return frame.with_columns(
        as_of=pl.lit(as_of),
        section=pl.lit("asked"),
        rank=pl.lit(0, pl.Int64),
        probability=pl.lit(None, pl.Float64),
        **{f"flag_{f}": (soon if f == "consent_expiring" else pl.lit(False)) for f in FLAGS},
        flags=pl.when(soon).then(pl.lit("consent_expiring")).otherwise(pl.lit("")),
    )


def stable_uniform(person_ids: pl.Series, as_of: date) -> pl.Series:
    """A uniform number in [0, 1) per person and date, the same on every machine and run."""
    values = [
        int.from_bytes(hashlib.sha256(f"{as_of}|{p}".encode()).digest()[:8], "big") / 2**64
        for p in person_ids.to_list()
    ]
    return pl.Series("u", values, dtype=pl.Float64)


DRAW_COLUMNS = {
    "person_id": pl.String,
    "as_of": pl.Date,
    "team": pl.String,
    "rank": pl.Int64,
    "probability": pl.Float64,
    "held_out": pl.Boolean,
    "listed": pl.Boolean,
}


def draw_holdout(
    ranked: pl.DataFrame, as_of: date, spec: OutreachSpec, drawn_before: pl.Series
) -> pl.DataFrame:
    """Tonight's draw among each team's rows within ``holdout_margin`` of the cut-off.

    Only teams with more eligible persons than places have a cut-off to draw at, and each
    person is drawn once (``drawn_before`` are left out), so every person counts once in
    the comparison. ``listed`` is filled in by the caller once the list is cut.
    """
    if spec.holdout_share <= 0 or ranked.is_empty():
        return pl.DataFrame(schema=DRAW_COLUMNS)
    margin = spec.holdout_margin
    band = ranked.filter(
        (pl.len().over("team") > pl.col("capacity"))
        & (pl.col("rank") > pl.col("capacity") - margin)
        & (pl.col("rank") <= pl.col("capacity") + margin)
        & ~pl.col("person_id").is_in(drawn_before.implode())
    )
    return band.with_columns(
        as_of=pl.lit(as_of),
        held_out=stable_uniform(band["person_id"], as_of) < spec.holdout_share,
        listed=pl.lit(False),
    ).select([pl.col(c).cast(t) for c, t in DRAW_COLUMNS.items()])


def _drawn_before(held_before: pl.DataFrame | None, as_of: date) -> pl.Series:
    """Persons in any earlier night's draw (a re-run of ``as_of`` draws anew, the same)."""
    if held_before is None or held_before.is_empty():
        return pl.Series("person_id", [], dtype=pl.String)
    return held_before.filter(pl.col("as_of") < as_of)["person_id"].unique()


def _still_held(
    person_ids: pl.Series, held_before: pl.DataFrame | None, as_of: date, spec: OutreachSpec
) -> pl.Series:
    """Whether each person was held out within the last ``holdout_days`` before ``as_of``."""
    if held_before is None or held_before.is_empty():
        return pl.Series("held", [False] * person_ids.len(), dtype=pl.Boolean)
    since = as_of - timedelta(days=spec.holdout_days)
    recent = held_before.filter(
        pl.col("held_out") & (pl.col("as_of") >= since) & (pl.col("as_of") < as_of)
    )
    return person_ids.is_in(recent["person_id"].implode()).alias("held")


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
