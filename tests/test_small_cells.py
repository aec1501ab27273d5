"""No small cells by arithmetic: every published share hides a numerator or a
denominator under privacy.min_cell_size (code tests on tiny frames, and a property)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from outreach.cells import count_expr, publishable, share, share_expr
from outreach.decisions import STORE_SCHEMA
from outreach.review_report import effectiveness, headline, summarise

DAY = date(2025, 6, 1)


def _decisions(decisions: list[str], overrides: int = 0, team: str = "itainen") -> pl.DataFrame:
    n = len(decisions)
    return pl.DataFrame(
        {
            "list_id": [f"2025-06-01-{team}"] * n,
            "person_id": [f"p{i}" for i in range(n)],
            "decision": decisions,
            "reason": [None] * n,
            "decided_at": [DAY] * n,
            "counsellor": ["c"] * n,
            "team": [team] * n,
            "rank": [None if i < overrides else i for i in range(n)],
            "risk_band": ["high"] * n,
            "override": [i < overrides for i in range(n)],
            "imported_at": [DAY] * n,
            "corrects": [None] * n,
            "superseded_at": [None] * n,
        },
        schema=STORE_SCHEMA,
    )


@given(
    numerator=st.integers(0, 60),
    extra=st.integers(0, 60),
    min_cell=st.integers(1, 20),
)
def test_a_share_is_published_only_when_both_of_its_counts_may_be(
    numerator: int, extra: int, min_cell: int
) -> None:
    """share() and its polars form agree, and give a value exactly when the numerator is
    zero or at least min_cell and the denominator at least min_cell."""
    denominator = numerator + extra
    value = share(numerator, denominator, min_cell)
    allowed = publishable(numerator, min_cell) and denominator >= min_cell and denominator > 0
    assert (value is not None) == allowed
    if allowed:
        assert value == numerator / denominator
    frame = pl.DataFrame({"n": [numerator], "d": [denominator]})
    polars = frame.select(share_expr(pl.col("n"), pl.col("d"), min_cell)).item()
    assert polars == value
    count = frame.select(count_expr(pl.col("n"), min_cell)).item()
    assert (count is None) == (not publishable(numerator, min_cell))


def test_one_override_among_twelve_decisions_is_not_published() -> None:
    """The MLflow headline keeps the count (12) and hides the override share (1 of 12)
    and the disagreement rate (1 of 12), but shows the contacted share (11 of 12)."""
    figures = headline(_decisions(["declined"] + ["contacted"] * 11, overrides=1), min_cell=10)
    assert figures["reviews_decisions"] == 12
    assert "reviews_override_share" not in figures
    assert "reviews_disagreement_rate" not in figures
    assert figures["reviews_contacted_share"] == 11 / 12
    assert headline(_decisions(["contacted"] * 9), min_cell=10) == {}


def test_the_headline_counts_only_the_latest_decision() -> None:
    """A decision replaced by a correction is not counted twice, nor with its old word."""
    latest = _decisions(["contacted"] * 10 + ["not_appropriate"] * 10)
    replaced = latest.head(10).with_columns(
        decision=pl.lit("declined"), superseded_at=pl.lit(DAY + timedelta(days=1))
    )
    figures = headline(pl.concat([latest, replaced]), min_cell=10)
    assert figures["reviews_decisions"] == 20
    assert figures["reviews_contacted_share"] == 0.5
    assert figures["reviews_disagreement_rate"] == 0.5


def test_report_tables_hide_a_rate_resting_on_two_persons() -> None:
    """A team of 20 decisions with 2 'not appropriate': the count 2 and the rate 0.1 are
    blank; a team with 10 of them shows both."""
    frame = pl.concat(
        [
            _decisions(["contacted"] * 18 + ["not_appropriate"] * 2, team="a"),
            _decisions(["contacted"] * 10 + ["not_appropriate"] * 10, team="b"),
        ]
    )
    by_team = {r["team"]: r for r in summarise(frame, min_cell=10)["by_team"].iter_rows(named=True)}
    assert by_team["a"]["decisions"] == 20 and by_team["a"]["contacted"] == 18
    assert by_team["a"]["not_appropriate"] is None
    assert by_team["a"]["disagreement_rate"] is None
    assert by_team["a"]["declined"] == 0  # nobody: says nothing about anyone
    assert by_team["b"]["not_appropriate"] == 10 and by_team["b"]["disagreement_rate"] == 0.5


def test_a_registration_share_of_one_person_is_suppressed() -> None:
    """Ten contacted, one registers later: 1 of 10 is not published under min_cell 10,
    while 0 of 10 is."""
    decisions = pl.DataFrame(
        {
            "person_id": [f"c{i}" for i in range(10)] + [f"d{i}" for i in range(10)],
            "decision": ["contacted"] * 10 + ["declined"] * 10,
            "decided_at": [DAY] * 20,
        }
    )
    outcomes = pl.DataFrame({"person_id": ["c1"], "registered_at": [DAY + timedelta(days=30)]})
    table = effectiveness(decisions, outcomes, 180, date(2026, 6, 1), min_cell=10)
    shares = dict(zip(table["decision"], table["registered_share"], strict=True))
    assert shares == {"contacted": None, "declined": 0.0}
