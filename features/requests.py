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

    ``erased`` persons' rows are dropped without a trace rather than quarantined.
    """

    day: date
    persons: frozenset[str]
    erased: frozenset[str] = frozenset()

    @property
    def reason(self) -> str:
        return f"{REQUEST_REASON} {self.day.isoformat()}"


def partner_requests(
    consents: pl.DataFrame,
    day: date,
    today: date,
    policy: ConsentPolicy,
    partners: Iterable[str],
    erased: Iterable[str] = (),
) -> dict[str, Request]:
    """Per partner source, the persons whose consent covers it on ``day``.

    As everywhere, a withdrawal or erasure by ``today`` stops all later processing: such
    persons are in no request, whatever ``day`` is.
    """
    partners, erased = list(partners), frozenset(erased)
    state = consent_state(consents, day, policy, partners, erased)
    if today != day:
        now = consent_state(consents, today, policy, partners, erased)
        gone = now.filter(pl.col("status").is_in(["withdrawn", "erased"]))["person_id"]
        state = state.filter(~pl.col("person_id").is_in(gone.implode()))
    return {
        p: Request(day, frozenset(state.filter(pl.col(f"source_{p}"))["person_id"]), erased)
        for p in partners
    }
