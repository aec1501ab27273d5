"""How much each team's list changed since the last published night, and why persons left it.

A counsellor's list should not churn without reason. Per team, tonight's ranked section is
compared with the ranked section of the previous published night: the overlap (Jaccard:
persons on both lists over persons on either), persons kept, new and dropped. Every
dropped person gets exactly one reason, the first of these that holds (:data:`REASONS`):

==================  ==================================================================
``asked``           still on the list, now in the "asked to be contacted" section
``consent_ended``   no consent to scoring and contact on tonight's date (expired,
                    withdrawn, erased)
``decision``        a counsellor's decision recorded since the previous list keeps them
                    off (cool-down or decline window)
``cool_down``       resting after an older decision (e.g. one imported late)
``held_out``        drawn to the hold-out tonight, or still resting from an earlier draw
``score_fell``      still eligible in the same team, ranked below the capacity
``other``           anything else: became a client of a service, out of the age range,
                    moved to another team's area
==================  ==================================================================

The order puts what keeps a person off whatever their score before the score itself. The
asked section is by request, not ranking: it is counted apart (``asked``,
``asked_previous``) and left out of the overlap. Persons are compared by the pseudonym
printed on the lists (the one counsellors' decisions carry).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl

from outreach.assemble import recent_decisions
from outreach.cells import publishable
from outreach.spec import OutreachSpec

REASONS = ("asked", "consent_ended", "decision", "cool_down", "held_out", "score_fell", "other")

# What is known about each person tonight (by the pseudonym on the lists): their team,
# whether they may be scored and contacted, whether they are in the cohort (scored), and
# whether the hold-out keeps them off.
STATUS_COLUMNS = {
    "person_id": pl.String,
    "team": pl.String,
    "can_list": pl.Boolean,
    "in_cohort": pl.Boolean,
    "held_out": pl.Boolean,
}


def _ranked(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col("section").fill_null("ranked") == "ranked").select(
        "person_id", "team"
    )


def _recently_decided(reviews: pl.DataFrame, previous_as_of: date, as_of: date) -> pl.Series:
    """Persons with a decision recorded since the previous list (dated, or imported, on or
    after its date) that tonight's assembly already counts (dated before tonight)."""
    since = pl.col("decided_at") >= previous_as_of
    if "imported_at" in reviews.columns:
        since = since | (pl.col("imported_at") >= previous_as_of)
    return reviews.filter(since & (pl.col("decided_at") < as_of))["person_id"].unique()


def reasons(
    dropped: pl.DataFrame,
    tonight: pl.DataFrame,
    status: pl.DataFrame,
    reviews: pl.DataFrame,
    previous_as_of: date,
    as_of: date,
    spec: OutreachSpec,
) -> pl.DataFrame:
    """One reason per dropped person (``person_id``, ``team`` of the previous list):
    the first of :data:`REASONS` that holds. Returns person_id, team, reason."""
    asked = tonight.filter(pl.col("section") == "asked")["person_id"]
    rest = recent_decisions(reviews, as_of, spec).select(
        "person_id", resting=pl.col("cooldown") | pl.col("declined")
    )
    now = status.select(
        "person_id", pl.col("team").alias("team_now"), "can_list", "in_cohort", "held_out"
    ).unique("person_id", keep="first")
    frame = (
        dropped.join(now, on="person_id", how="left")
        .join(rest, on="person_id", how="left")
        .with_columns(pl.col("can_list", "in_cohort", "held_out", "resting").fill_null(False))
    )
    recent = _recently_decided(reviews, previous_as_of, as_of)
    reason = (
        pl.when(pl.col("person_id").is_in(asked.implode()))
        .then(pl.lit("asked"))
        .when(~pl.col("can_list"))
        .then(pl.lit("consent_ended"))
        .when(pl.col("resting") & pl.col("person_id").is_in(recent.implode()))
        .then(pl.lit("decision"))
        .when(pl.col("resting"))
        .then(pl.lit("cool_down"))
        .when(pl.col("held_out"))
        .then(pl.lit("held_out"))
        .when(pl.col("in_cohort") & (pl.col("team_now") == pl.col("team")).fill_null(False))
        .then(pl.lit("score_fell"))
        .otherwise(pl.lit("other"))
    )
    return frame.select("person_id", "team", reason.alias("reason"))


def compare(
    previous: pl.DataFrame,
    tonight: pl.DataFrame,
    status: pl.DataFrame,
    reviews: pl.DataFrame,
    previous_as_of: date,
    as_of: date,
    spec: OutreachSpec,
) -> dict[str, dict[str, Any]]:
    """Per team: jaccard, kept, new, dropped, dropped_by (reason -> persons, summing to
    dropped), asked and asked_previous.

    ``previous`` and ``tonight`` are published rows (person_id as printed, team, section);
    ``status`` is :data:`STATUS_COLUMNS`; ``reviews`` the decisions store. Two empty lists
    overlap fully (jaccard 1).
    """
    before, after = _ranked(previous), _ranked(tonight)
    dropped = before.join(after, on=["person_id", "team"], how="anti")
    why = reasons(dropped, tonight, status, reviews, previous_as_of, as_of, spec)
    teams = sorted(set(previous["team"].to_list()) | set(tonight["team"].to_list()))
    out: dict[str, dict[str, Any]] = {}
    for team in teams:
        was = set(before.filter(pl.col("team") == team)["person_id"].to_list())
        now = set(after.filter(pl.col("team") == team)["person_id"].to_list())
        union = was | now
        by = dict.fromkeys(REASONS, 0)
        by.update(dict(why.filter(pl.col("team") == team).group_by("reason").len().iter_rows()))
        out[team] = {
            "jaccard": len(was & now) / len(union) if union else 1.0,
            "kept": len(was & now),
            "new": len(now - was),
            "dropped": len(was - now),
            "dropped_by": by,
            "asked": _asked(tonight, team),
            "asked_previous": _asked(previous, team),
        }
    return out


def _asked(rows: pl.DataFrame, team: str) -> int:
    return rows.filter((pl.col("team") == team) & (pl.col("section") == "asked")).height


def metric_name(team: str) -> str:
    """A team name as an MLflow metric name part (letters, digits, ``_ - .``)."""
    return re.sub(r"[^\w.-]", "_", team, flags=re.ASCII)


def metrics(teams: Mapping[str, Mapping[str, Any]], min_cell: int) -> dict[str, float]:
    """The MLflow metrics of :func:`compare`'s result, without small cells.

    kept + new is tonight's list and kept + dropped last night's, both about the capacity,
    so one small count can be recomputed from the others (and from the Jaccard): a team's
    figures are logged only when kept, new and dropped are all publishable, its reasons
    only when every reason's count is. The manifest keeps the exact counts.
    """
    out: dict[str, float] = {}
    for team, s in teams.items():
        name = metric_name(team)
        counts = {k: s[k] for k in ("kept", "new", "dropped")}
        if not all(publishable(v, min_cell) for v in counts.values()):
            continue
        out[f"stability_jaccard_{name}"] = float(s["jaccard"])
        out.update({f"stability_{k}_{name}": float(v) for k, v in counts.items()})
        if all(publishable(v, min_cell) for v in s["dropped_by"].values()):
            out.update(
                {f"stability_dropped_{r}_{name}": float(v) for r, v in s["dropped_by"].items()}
            )
    return out
