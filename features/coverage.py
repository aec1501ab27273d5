"""Whether the data reaches the as-of date a run was asked for.

An as-of date before the first consent or the first partner row leaves an empty cohort,
and training before a full feature window and label horizon leaves no labelled month;
both ended deep in scoring or training with a traceback ("0 samples", "max() of an empty
sequence"). These checks say so first, in one paragraph naming the earliest date that
works. Pure functions of dates and frames: no clock, no file, no personal value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from features.errors import SourceError
from features.folds import labelled_dates


def check_as_of_covered(
    as_of: date, consents: pl.DataFrame, events: pl.DataFrame, source: str = "--as-of"
) -> None:
    """Refuse an as-of date before any consent was given or any partner row is dated.

    A person is in scope on D when a consent was given on or before D, and features use
    partner rows dated before D; so the earliest useful as-of date is the later of the
    first ``given_at`` and the day after the first ``event_date``.

    Raises
    ------
    SourceError
        Naming ``source`` (where the date came from), the first consent and partner dates,
        and the earliest as-of date that works.
    """
    first_consent = consents["given_at"].min() if consents.height else None
    first_event = events["event_date"].min() if events.height else None
    if first_consent is None or first_event is None:
        missing = "consent" if first_consent is None else "partner row"
        raise SourceError(
            source,
            f"there is no {missing} at all, so nobody can be scored on {as_of.isoformat()}.",
            hint="Check that the extracts arrived (`ennakko validate`).",
        )
    earliest = max(first_consent, first_event + timedelta(days=1))
    if as_of >= earliest:
        return
    raise SourceError(
        source,
        f"the as-of date {as_of.isoformat()} is before the data: the first consent was given "
        f"on {first_consent.isoformat()} and the first partner row is dated "
        f"{first_event.isoformat()}, so nobody could be scored.",
        hint=f"Choose an as-of date on or after {earliest.isoformat()}.",
    )


def check_training_dates(
    dates: Sequence[date],
    as_of: date,
    data_start: date,
    history_days: int,
    horizon_days: int,
    step_months: int = 1,
    source: str = "--as-of",
) -> None:
    """Refuse training when no monthly as-of date has both history and an observed label.

    A training date needs ``history_days`` of partner rows before it (they start on
    ``data_start``) and its whole label horizon observed before ``as_of``.

    Raises
    ------
    SourceError
        Naming the requirement and the earliest as-of date that can train.
    """
    if dates:
        return
    earliest = _earliest_training_as_of(data_start, history_days, horizon_days, step_months)
    raise SourceError(
        source,
        f"the as-of date {as_of.isoformat()} leaves no month to train on: a training date "
        f"needs {history_days} days of partner rows before it (they start on "
        f"{data_start.isoformat()}) and its {horizon_days}-day label horizon observed before "
        "the as-of date.",
        hint=f"Train with an as-of date on or after {earliest.isoformat()}, or shorten "
        "features.windows_days or labels.horizon_days.",
    )


def _earliest_training_as_of(start: date, history: int, horizon: int, step: int) -> date:
    """The first as-of date whose labelled dates are not empty."""
    candidate = start + timedelta(days=history + horizon)
    for _ in range(400):  # at most a month and a few days past the estimate
        if labelled_dates(start, candidate, horizon, history, step):
            return candidate
        candidate += timedelta(days=1)
    return candidate
