"""Too little labelled history for training is refused at the boundary, in one paragraph."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.coverage import check_fold_history
from features.errors import SourceError
from features.folds import labelled_dates, temporal_folds
from features.spec import FoldSpec


def test_labelled_months_without_a_fold_are_refused_naming_a_date_that_trains() -> None:
    start, history, horizon, spec = date(2022, 1, 1), 365, 180, FoldSpec()
    as_of = date(2023, 8, 1)
    dates = labelled_dates(start, as_of, horizon, history)
    assert dates and not temporal_folds(dates, horizon, spec)  # the case evaluation died on
    with pytest.raises(SourceError) as refused:
        check_fold_history(dates, as_of, start, history, horizon, spec)
    text = str(refused.value)
    assert text.startswith("--as-of: the as-of date 2023-08-01 leaves 2 labelled month(s)")
    assert "2023-01-01 to 2023-02-01" in text and "180-day label horizon" in text
    assert "Traceback" not in text


@given(
    st.dates(date(2015, 1, 1), date(2025, 1, 1)),
    st.integers(30, 730),
    st.integers(30, 365),
    st.integers(1, 3),
    st.integers(1, 4),
)
def test_the_date_named_has_a_fold_and_a_history_with_one_passes(
    start: date, history: int, horizon: int, step: int, spacing: int
) -> None:
    spec = FoldSpec(step_months=step, test_spacing_months=spacing)
    as_of = start + timedelta(days=history + horizon + 1)
    dates = labelled_dates(start, as_of, horizon, history, step)
    if not dates or temporal_folds(dates, horizon, spec):
        check_fold_history(dates, as_of, start, history, horizon, spec)  # nothing to refuse
        return
    with pytest.raises(SourceError) as refused:
        check_fold_history(dates, as_of, start, history, horizon, spec)
    named = date.fromisoformat(re.search(r"on or after (\S+),", str(refused.value)).group(1))
    later = labelled_dates(start, named, horizon, history, step)
    assert temporal_folds(later, horizon, spec)
    assert not temporal_folds(
        labelled_dates(start, named - timedelta(days=1), horizon, history, step), horizon, spec
    )
    check_fold_history(later, named, start, history, horizon, spec)
