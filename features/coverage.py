"""Whether the data reaches the as-of date a run was asked for.

An as-of date before the first consent or the first partner row leaves an empty cohort,
training before a full feature window and label horizon leaves no labelled month, and
too few labelled months leave no temporal fold to evaluate on; all three ended deep in scoring or training with a traceback ("0 samples", "max() of an empty
sequence"). These checks say so first, in one paragraph naming the earliest date that
works. Pure functions of dates and frames: no clock, no file, no personal value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from features.errors import SourceError
from features.folds import labelled_dates, temporal_folds
from features.spec import FoldSpec


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


def check_fold_history(
    dates: Sequence[date],
    as_of: date,
    data_start: date,
    history_days: int,
    horizon_days: int,
    folds: FoldSpec,
    source: str = "--as-of",
) -> None:
    """Refuse training when the labelled dates form no temporal fold, before anything is built.

    A fold tests on one labelled month and trains on earlier ones whose whole label horizon
    closes before it: with fewer months of labelled history than that, evaluation would
    stop after the training set was built ("no fold had both training and test rows").

    Raises
    ------
    SourceError
        Naming how many labelled months there are and the earliest as-of date with a fold.
    """
    if not dates or temporal_folds(list(dates), horizon_days, folds):
        return
    step = folds.step_months
    candidate = as_of
    for _ in range(2 * horizon_days + 400):  # a fold needs about one more horizon
        candidate += timedelta(days=1)
        later = labelled_dates(data_start, candidate, horizon_days, history_days, step)
        if temporal_folds(later, horizon_days, folds):
            break
    first, last = min(dates).isoformat(), max(dates).isoformat()
    raise SourceError(
        source,
        f"the as-of date {as_of.isoformat()} leaves {len(dates)} labelled month(s) ({first} "
        f"to {last}), too little history for one temporal fold: a fold tests on one month "
        f"and trains on months whose {horizon_days}-day label horizon closes before it.",
        hint=f"Train with an as-of date on or after {candidate.isoformat()}, or shorten "
        "labels.horizon_days or features.windows_days.",
    )
