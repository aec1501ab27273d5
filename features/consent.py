"""Consent semantics, in one place: who may be scored, listed, and whose partner rows used.

On a date D, a person's **latest** consent given on or before D decides (a new consent
replaces an old one; a withdrawal on the latest consent ends everything). Consents given
on the same day resolve to the most restrictive state they allow together: a withdrawal
on any of them wins, and only the purposes all of them grant remain. It is **valid**
when ``given_at <= D < min(expires_at, withdrawn_at)`` and its privacy-notice version is
not configured invalid. Purposes: ``scoring`` (may be scored), ``contact`` (may appear on
a list), ``source:<name>`` (that partner's rows may be used). Erased persons are out of
scope whatever their consent says.

Every function here takes frames and dates and returns frames; nothing reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import polars as pl

from features.spec import ConsentPolicy

STATUSES = ("valid", "expired", "withdrawn", "invalid_notice", "not_yet_given", "erased")


def consent_state(
    consents: pl.DataFrame,
    as_of: date | Sequence[date],
    policy: ConsentPolicy,
    partners: Iterable[str],
    erased: Iterable[str] = (),
) -> pl.DataFrame:
    """Each person's consent on each as-of date.

    Returns one row per (person_id, as_of) for every person with a consent row, with
    ``status`` (one of STATUSES), ``can_score``, ``can_contact``, one boolean
    ``source_<name>`` per partner, ``expires_at``, ``expiring_soon``, ``given_at`` of the
    deciding consent, and the person attributes from it (birth_year, postal_code,
    language, team, gender).
    """
    dates = [as_of] if isinstance(as_of, date) else list(as_of)
    partners = list(partners)
    purposes = {"scoring": "scoring", "contact": "contact"} | {
        f"source_{p}": f"source:{p}" for p in partners
    }
    latest = _deciding(consents, dates, policy, purposes)
    ends = pl.min_horizontal(
        pl.col("expires_at").fill_null(date.max), pl.col("withdrawn_at").fill_null(date.max)
    )
    status = (
        pl.when(pl.col("person_id").is_in(list(erased)))
        .then(pl.lit("erased"))
        .when(pl.col("withdrawn_at").is_not_null() & (pl.col("withdrawn_at") <= pl.col("as_of")))
        .then(pl.lit("withdrawn"))
        .when(pl.col("expires_at").is_not_null() & (pl.col("expires_at") <= pl.col("as_of")))
        .then(pl.lit("expired"))
        .when(pl.col("_invalid"))
        .then(pl.lit("invalid_notice"))
        .otherwise(pl.lit("valid"))
    )
    valid = pl.col("status") == "valid"
    warn = timedelta(days=policy.expiry_warning_days)
    state = latest.with_columns(status=status).with_columns(
        can_score=valid & pl.col("_p_scoring"),
        can_contact=valid & pl.col("_p_contact"),
        expiring_soon=valid & (ends - pl.col("as_of") <= warn) & pl.col("expires_at").is_not_null(),
        **{f"source_{p}": valid & pl.col(f"_p_source_{p}") for p in partners},
    )
    gender = pl.col("gender") if "gender" in consents.columns else pl.lit(None, pl.String)
    return (
        state.select(
            "person_id",
            "as_of",
            "consent_id",
            "status",
            "can_score",
            "can_contact",
            *[f"source_{p}" for p in partners],
            "given_at",
            "expires_at",
            "expiring_soon",
            "birth_year",
            "postal_code",
            "language",
            "team",
            gender.alias("gender"),
        )
        .collect()
        .sort(["as_of", "person_id"])
    )


def _deciding(
    consents: pl.DataFrame,
    dates: list[date],
    policy: ConsentPolicy,
    purposes: dict[str, str],
) -> pl.LazyFrame:
    """Per (person_id, as_of) the deciding consent, with ``_invalid`` and a ``_p_<name>``
    flag per purpose: only the latest consent given on or before D decides..."""
    dates_frame = pl.DataFrame({"as_of": dates}, schema={"as_of": pl.Date})
    keys = ["person_id", "as_of"]
    tokens = pl.col("purposes").str.split(",").list.eval(pl.element().str.strip_chars())
    candidates = (
        consents.lazy()
        .join(dates_frame.lazy(), how="cross")
        .filter(pl.col("given_at") <= pl.col("as_of"))
        .filter(pl.col("given_at") == pl.col("given_at").max().over(keys))
        .with_columns(
            _invalid=pl.col("notice_version").is_in(list(policy.invalid_notice_versions)),
            **{f"_p_{name}": tokens.list.contains(token) for name, token in purposes.items()},
        )
    )
    # ...and when several were given on that same day, the most restrictive state they
    # allow together: the earliest withdrawal and expiry, only the purposes all of them
    # grant, an invalid notice if any has one. The attributes come from the most
    # restrictive row, so the result never depends on the order of the rows.
    return (
        candidates.sort([*keys, "withdrawn_at", "expires_at", "consent_id"], nulls_last=True)
        .group_by(keys, maintain_order=True)
        .agg(
            pl.all().exclude("withdrawn_at", "expires_at", "_invalid", "^_p_.*$").first(),
            pl.col("withdrawn_at").min(),
            pl.col("expires_at").min(),
            pl.col("_invalid").any(),
            *[pl.col(f"_p_{name}").all() for name in purposes],
        )
    )


def not_yet_given(consents: pl.DataFrame, as_of: date) -> int:
    """Persons whose first consent comes after ``as_of`` (not in scope yet)."""
    first = consents.group_by("person_id").agg(pl.col("given_at").min())
    return first.filter(pl.col("given_at") > as_of).height


def counts_by_status(state: pl.DataFrame) -> dict[str, int]:
    """Persons per consent status, and how many may be scored and contacted."""
    counts = dict(state.group_by("status").len().sort("status").iter_rows())
    counts["can_score"] = int(state["can_score"].sum())
    counts["can_contact"] = int(state["can_contact"].sum())
    return counts


def in_scope(state: pl.DataFrame, services: pl.DataFrame) -> pl.DataFrame:
    """The cohort: may be scored on the date and not already a client of a service."""
    clients = active_clients(services, state.select("as_of").unique())
    return state.filter(pl.col("can_score")).join(clients, on=["person_id", "as_of"], how="anti")


def active_clients(services: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    """(person_id, as_of) pairs where a service started on or before D and has not ended."""
    return (
        services.lazy()
        .join(dates.lazy(), how="cross")
        .filter(
            (pl.col("start") <= pl.col("as_of"))
            & (pl.col("end").is_null() | (pl.col("end") >= pl.col("as_of")))
        )
        .select("person_id", "as_of")
        .unique()
        .collect()
    )
