"""Whom each partner may send rows about: its **request** of a day.

A partner source's rows may be used only for persons whose consent covers that source on
the day (``source_<partner>`` of :func:`features.consent.consent_state`). The same request
is what ``ennakko partners requests`` writes for the partner and what the nightly run
checks the partner's returned rows against (:func:`features.validate.validate`): one
definition, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from features.consent import consent_state
from features.spec import ConsentPolicy

REQUEST_REASON = "not in the partner's request of"


@dataclass(frozen=True)
class Request:
    """Whom a partner was asked about on ``day``: only these persons' rows may be used.

    The rows of ``erased`` persons (and of those who have withdrawn) are dropped without a
    trace rather than quarantined: nothing of theirs is kept after they said stop.
    """

    day: date
    persons: frozenset[str]
    erased: frozenset[str] = frozenset()
    earlier: bool = False  # the requests of every day up to ``day`` (see partner_requests)

    @property
    def reason(self) -> str:
        return f"{REQUEST_REASON} {self.day.isoformat()}" + (
            " or an earlier one" if self.earlier else ""
        )


def partner_requests(
    consents: pl.DataFrame,
    day: date,
    today: date,
    policy: ConsentPolicy,
    partners: Iterable[str],
    erased: Iterable[str] = (),
    *,
    earlier: bool = False,
) -> dict[str, Request]:
    """Per partner source, the persons whose consent covers it on ``day``.

    With ``earlier``, also everyone an earlier request named (a consent given on or before
    ``day`` granted the source, under a valid notice): the nightly run keeps the rows it
    was sent then, for the dates their consent covered (the consent gate masks the
    others), so training on past dates sees the history it was allowed to. As everywhere,
    a withdrawal or erasure by ``today`` stops all later processing: such persons are in
    no request, whatever ``day`` is.
    """
    partners, erased = list(partners), frozenset(erased)
    state = consent_state(consents, day, policy, partners, erased)
    now = state if today == day else consent_state(consents, today, policy, partners, erased)
    gone = set(now.filter(pl.col("status").is_in(["withdrawn", "erased"]))["person_id"]) | erased
    granted = _granted_up_to(consents, day, policy) if earlier else pl.DataFrame()
    out = {}
    for p in partners:
        persons = set(state.filter(pl.col(f"source_{p}"))["person_id"])
        if earlier:
            persons |= set(granted.filter(pl.col("token") == f"source:{p}")["person_id"])
        out[p] = Request(day, frozenset(persons - gone), frozenset(gone), earlier)
    return out


def _granted_up_to(consents: pl.DataFrame, day: date, policy: ConsentPolicy) -> pl.DataFrame:
    """(person_id, token): every purpose a consent given on or before ``day`` granted."""
    return (
        consents.filter(
            (pl.col("given_at") <= day)
            & ~pl.col("notice_version").is_in(list(policy.invalid_notice_versions))
        )
        .select("person_id", token=pl.col("purposes").str.split(","))
        .explode("token")
        .with_columns(pl.col("token").str.strip_chars())
        .unique()
    )
