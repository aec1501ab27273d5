"""Rolling-origin temporal folds over monthly as-of dates.

Each fold tests on one as-of date T and trains on the ``train_months`` latest as-of
dates D whose whole label window (D, D + horizon] closes before T, so no training label
can see past the test date. Origins step back from the latest labelled date by
``test_spacing_months``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from features.labels import last_labelled
from features.spec import FoldSpec


@dataclass(frozen=True)
class Fold:
    number: int
    train: tuple[date, ...]
    test: date


def month_starts(first: date, last: date, step_months: int = 1) -> list[date]:
    """First days of months from ``first``'s month up to ``last`` (inclusive), every step."""
    out, year, month = [], first.year, first.month
    if first.day != 1:
        month += 1
        if month > 12:
            year, month = year + 1, 1
    while date(year, month, 1) <= last:
        out.append(date(year, month, 1))
        month += step_months
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return out


def labelled_dates(
    data_start: date, observed_until: date, horizon_days: int, history_days: int, step: int = 1
) -> list[date]:
    """As-of dates with a full feature history behind them and a fully observed horizon."""
    first = data_start + timedelta(days=history_days)
    return month_starts(first, last_labelled(observed_until, horizon_days), step)


def temporal_folds(dates: list[date], horizon_days: int, spec: FoldSpec) -> list[Fold]:
    """Rolling-origin folds, oldest first; fewer when the history is too short."""
    dates = sorted(dates)
    folds = []
    for k in range(spec.n_folds):
        index = len(dates) - 1 - k * spec.test_spacing_months
        if index < 0:
            break
        test = dates[index]
        train = [d for d in dates if d + timedelta(days=horizon_days) < test][-spec.train_months :]
        if train:
            folds.append((test, tuple(train)))
    return [Fold(i + 1, train, test) for i, (test, train) in enumerate(sorted(folds))]


def final_training_dates(dates: list[date], spec: FoldSpec) -> list[date]:
    """The as-of dates the production model trains on: the latest labelled ones."""
    return sorted(dates)[-spec.train_months :]
