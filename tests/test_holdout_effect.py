"""Does contact help? The hold-out's effect, its interval, its plan (issue 15 item 3).

The synthetic city plants a known effect of contact (synth.contact) in the outcomes of
hold-out draws at a capacity margin; the analysis must find it within its interval, and
say "not informative yet" when there is nothing to find and few persons to find it in.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import holdout_plan
from flows.audit import AuditLog
from flows.reviews_text import report_markdown
from outreach.effect import (
    FLOW_STEPS,
    Plan,
    analyse,
    effect_table,
    estimate,
    flow_counts,
    newcombe,
    outcome_rows,
    suppress_flow,
    verdict,
)
from outreach.review_report import holdout_effect
from synth import CitySpec
from synth.contact import city_outcomes, margin_draws, planted_outcomes

FIRST = date(2024, 1, 1)
HORIZON = 180
LATER = date(2025, 1, 1)  # every draw's horizon has passed
MIN_CELL = 10
HALF_WIDTH = 0.05


def planted(n: int, effect: float, seed: int):
    draws = margin_draws(n, seed, FIRST)
    outcomes = planted_outcomes(draws, effect, seed, HORIZON)
    return estimate(outcome_rows(draws, outcomes, HORIZON, LATER), MIN_CELL, HALF_WIDTH)


def test_a_planted_effect_is_recovered_within_its_interval() -> None:
    """0.15 planted on ~2000 margin persons: a place's interval covers it, excludes 0."""
    spec = CitySpec(n_persons=2000, seed=5, contact_effect=0.15)
    draws = margin_draws(spec.n_persons, spec.seed, FIRST)
    rows = outcome_rows(draws, city_outcomes(spec, draws, HORIZON), HORIZON, LATER)
    effect = estimate(rows, MIN_CELL, HALF_WIDTH)
    assert effect.n_held + effect.n_not == 2000
    assert effect.place is not None and effect.itt is not None
    assert effect.place.low < 0.15 < effect.place.high
    assert effect.place.low > 0 and effect.itt.low > 0
    # The ITT is the effect diluted by the listed share of the not-held-out.
    planted_itt = 0.15 * (effect.listed_not - effect.listed_held)
    assert effect.itt.low < planted_itt < effect.itt.high
    assert effect.informative
    assert verdict(effect, "en").startswith("Informative: held-out persons registered")
    assert "lowers" in verdict(effect, "en") and "vähentää" in verdict(effect, "fi")


def test_no_effect_and_a_small_sample_is_not_informative_yet() -> None:
    effect = planted(60, 0.0, seed=3)
    assert not effect.informative
    assert effect.mde is not None and effect.mde > 0.2  # only a large effect could show
    assert verdict(effect, "en").startswith("Not informative yet")
    assert verdict(effect, "fi").startswith("Ei vielä informatiivinen")
    assert verdict(effect, "sv").startswith("Inte informativt ännu")
    if effect.itt is not None:  # the words name the MDE the numbers give
        assert f"{100 * effect.mde:.1f}" in verdict(effect, "en")


def test_no_effect_on_a_large_sample_bounds_the_effect() -> None:
    """Informative without excluding zero: the interval is narrower than the threshold."""
    effect = planted(6000, 0.0, seed=4)
    assert effect.itt is not None and effect.itt.low < 0 < effect.itt.high
    assert effect.itt.half_width <= HALF_WIDTH and effect.informative
    assert verdict(effect, "en").startswith("Informative: no effect larger than")


def test_the_intervals_hold_their_level() -> None:
    """Over 150 planted cities a place's 95 % interval covers the planted 0.1 in 90-99 %
    of them, and Newcombe's interval covers a known difference as often."""
    covered = 0
    for seed in range(150):
        place = planted(800, 0.1, seed).place
        assert place is not None
        covered += place.low <= 0.1 <= place.high
    assert 0.90 <= covered / 150 <= 0.99
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(300):
        k1, k2 = rng.binomial(40, 0.3), rng.binomial(50, 0.5)
        i = newcombe(int(k1), 40, int(k2), 50)
        hits += i.low <= -0.2 <= i.high
    assert 0.91 <= hits / 300 <= 0.99


def test_no_effect_leaves_the_outcomes_untouched_and_the_city_stream_apart() -> None:
    draws = margin_draws(500, 9, FIRST)
    unlisted = draws.with_columns(listed=pl.lit(False))
    zero = planted_outcomes(draws, 0.0, 9, HORIZON)
    assert zero.equals(planted_outcomes(unlisted, 0.0, 9, HORIZON))
    assert not planted_outcomes(draws, 0.3, 9, HORIZON).equals(zero)
    # Registered persons registered within their horizon, after the draw.
    joined = zero.join(draws, on="person_id")
    assert joined.height > 100
    days = (joined["registered_at"] - joined["as_of"]).dt.total_days()
    assert days.min() >= 1 and days.max() <= HORIZON
    # The city's own files never read contact_effect (it is not in its manifest's spec).
    assert CitySpec(10, 1) == replace(CitySpec(10, 1, contact_effect=0.2), contact_effect=0.0)


def test_the_flow_follows_every_draw_to_its_outcome() -> None:
    """Exact counts: a horizon not yet passed, an extract ending too early, a person
    drawn twice counted once."""
    draws = pl.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(8)] + ["p0"],
            "as_of": [date(2024, 1, 1)] * 4 + [date(2024, 6, 1)] * 2 + [date(2024, 9, 1)] * 2
            + [date(2024, 2, 1)],
            "held_out": [True, False, True, False, True, False, True, False, False],
            "listed": [False, True, False, False, False, True, False, True, True],
        }
    )  # fmt: skip
    outcomes = pl.DataFrame(
        {"person_id": ["p0", "p1", "p2"], "registered_at": [date(2024, 3, 1)] * 3}
    )
    # Horizons: January draws end 2024-06-29, June 2024-11-28, September 2025-02-28.
    rows = outcome_rows(draws, outcomes, HORIZON, date(2025, 1, 1), date(2024, 9, 30))
    counts = flow_counts(rows)
    assert counts["eligible at the margin"] == 8
    assert (counts["held out"], counts["not held out"]) == (4, 4)
    assert counts["held out: horizon not passed"] == 1  # p6, drawn in September
    assert counts["held out: outcomes extract ends too early"] == 1  # p4, June
    assert counts["held out: outcome known"] == 2
    for parent, children in FLOW_STEPS:
        assert counts[parent] == sum(counts[c] for c in children)
    assert rows.filter(pl.col("registered"))["person_id"].sort().to_list() == ["p0", "p1", "p2"]


FLOW_LEAVES = [c for _, children in FLOW_STEPS for c in children if c not in dict(FLOW_STEPS)]


@settings(max_examples=150, deadline=None)
@given(
    leaves=st.lists(st.integers(0, 25), min_size=len(FLOW_LEAVES), max_size=len(FLOW_LEAVES)),
    min_cell=st.integers(1, 12),
)
def test_no_suppressed_count_of_the_flow_can_be_recomputed(
    leaves: list[int], min_cell: int
) -> None:
    """Every hidden cell stays undetermined by the published cells and the flow's sums
    (linear algebra over all steps at once), and every shown cell is publishable."""
    values = dict(zip(FLOW_LEAVES, leaves, strict=True))
    for parent, children in reversed(FLOW_STEPS):
        values[parent] = sum(values[c] for c in children)
    shown = suppress_flow(values, FLOW_STEPS, min_cell)
    assert all(v == 0 or v >= min_cell for v in shown.values() if v is not None)
    hidden = [k for k, v in shown.items() if v is None]
    assert {k for k, v in values.items() if 0 < v < min_cell} <= set(hidden)
    if not hidden:
        return
    a = np.array([[(c == p) - (c in ch) for c in hidden] for p, ch in FLOW_STEPS], dtype=float)
    rank = np.linalg.matrix_rank(a)
    for i in range(len(hidden)):
        unit = np.eye(len(hidden))[i]
        assert np.linalg.matrix_rank(np.vstack([a, unit])) > rank, hidden[i]


def test_small_arms_are_not_published() -> None:
    """14 persons: no estimate, no share, no count under 10 in the flow or the table."""
    rows = outcome_rows(margin_draws(14, 2, FIRST), pl.DataFrame(schema=OUTCOMES), HORIZON, LATER)
    flow, small = analyse(rows, MIN_CELL, HALF_WIDTH)
    assert small.itt is None and small.place is None and not small.informative
    assert verdict(small, "en").startswith("Not informative yet: fewer than 10")
    table = dict(effect_table(small, Plan(None, "x")).iter_rows())
    assert table["effect of eligibility (ITT), points, 95 % CI"] == ""
    assert table["listed share, not held out"] == ""
    assert table["minimum detectable effect (ITT, 80 % power), points"] == ""
    shown = [v for v in flow["persons"].to_list() if v is not None]
    assert all(v == 0 or v >= MIN_CELL for v in shown)
    small_arms = {n for n in (small.n_held, small.n_not) if 0 < n < MIN_CELL}
    assert small_arms, "the sample has a small arm to hide"
    words = " ".join(table.values()).split()
    assert not small_arms & {int(w) for w in words if w.isdigit()}


def test_the_estimate_is_withheld_when_the_flow_must_hide_what_it_rests_on() -> None:
    """A few held-out draws whose outcomes the extract does not reach: the flow hides them
    and the known count beside them, unless the parent can go instead; the estimate is
    published only with its known counts shown."""
    draws = margin_draws(400, 6, FIRST)
    late = draws.filter(pl.col("held_out")).head(3).with_columns(as_of=pl.lit(date(2024, 9, 1)))
    draws = pl.concat([draws.filter(~pl.col("person_id").is_in(late["person_id"].implode())), late])
    outcomes = planted_outcomes(draws, 0.0, 6, HORIZON)
    rows = outcome_rows(draws, outcomes, HORIZON, LATER, date(2024, 12, 31))
    flow, effect = analyse(rows, MIN_CELL, HALF_WIDTH)
    shown = dict(flow.iter_rows())
    assert shown["held out: outcomes extract ends too early"] is None
    assert shown["held out: outcome known"] is not None  # the parent went instead
    assert shown["held out: horizon passed"] is None
    assert effect.itt is not None


OUTCOMES = {"person_id": pl.String, "registered_at": pl.Date}


def test_the_report_names_the_plan_hash_and_says_when_it_is_not_pre_registered() -> None:
    draws = margin_draws(400, 8, FIRST)
    outcomes = planted_outcomes(draws, 0.0, 8, HORIZON)
    tables = holdout_effect(
        draws, outcomes, HORIZON, LATER, MIN_CELL, HALF_WIDTH, Plan("a" * 64, "a" * 64)
    )
    effect = dict(tables["hold_out_effect"].iter_rows())
    assert effect["analysis plan"] == "pre-registered"
    text = report_markdown(tables, "Testikaupunki", LATER, MIN_CELL)
    assert "## hold out flow" in text and "| eligible at the margin | 400 |" in text
    assert "a" * 64 in text
    assert "**en:** Not informative yet" in text and "**fi:** Ei vielä" in text
    assert "| verdict (en)" not in text  # the words are paragraphs, not table rows
    changed = holdout_effect(
        draws, outcomes, HORIZON, LATER, MIN_CELL, HALF_WIDTH, Plan("a" * 64, "b" * 64)
    )
    assert dict(changed["hold_out_effect"].iter_rows())["analysis plan"].startswith(
        "NOT pre-registered: the plan file changed"
    )
    nothing = holdout_effect(
        draws, outcomes.clear(), HORIZON, LATER, MIN_CELL, HALF_WIDTH, Plan(None, None)
    )
    words = dict(nothing["hold_out_effect"].iter_rows())
    assert words["verdict (en)"].startswith("No hold-out draw has reached its horizon")
    assert words["analysis plan"] == "NOT pre-registered: no plan hash recorded"


def test_the_first_night_with_draws_records_the_plan_hash_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text("# plan v1\n")
    monkeypatch.setattr(holdout_plan, "CANDIDATES", (tmp_path / "missing.md", plan))
    ctx = SimpleNamespace(
        audit=AuditLog(tmp_path / "audit.jsonl", b"k" * 32),
        run_id="r1", as_of=date(2025, 12, 1), notes={},
    )  # fmt: skip
    draws = margin_draws(20, 1, FIRST)
    assert holdout_plan.record_plan(ctx, None) is None  # hold-out off: nothing recorded
    assert holdout_plan.record_plan(ctx, draws.clear()) is None
    entry = holdout_plan.record_plan(ctx, draws)
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    assert entry is not None and entry["sha256"] == digest and entry["event"] == "holdout.plan"
    assert holdout_plan.record_plan(ctx, draws) is None  # once
    assert [e["event"] for e in ctx.audit.read()] == ["holdout.plan"]
    assert holdout_plan.plan_state(ctx).pre_registered
    plan.write_text("# plan v1, edited after outcomes were seen\n")
    state = holdout_plan.plan_state(ctx)
    assert state.recorded == digest and not state.pre_registered
    assert ctx.audit.verify().ok


@pytest.mark.e2e
@pytest.mark.xdist_group("prefect")
def test_the_nightly_records_the_plan_and_the_report_shows_the_hold_out(
    published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first night with draws appends the plan's hash once; `reviews report` shows the
    flow of the draws and says there is nothing to estimate before any horizon passed."""
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.nightly import nightly
    from tests.test_privacy import audit_log, copy_workspace

    workspace, config = copy_workspace(
        published, tmp_path, outreach={"capacity": {"default": 10}, "holdout_share": 0.4}
    )
    monkeypatch.chdir(tmp_path)
    nightly(config=str(config), as_of="2025-12-02")
    entries = [e for e in audit_log(workspace).read() if e["event"] == "holdout.plan"]
    assert len(entries) == 1
    plan = Path(holdout_plan.__file__).parents[1] / "docs" / "holdout-analysis-plan.md"
    assert entries[0]["sha256"] == hashlib.sha256(plan.read_bytes()).hexdigest()
    assert entries[0]["seq"] > max(
        e["seq"] for e in audit_log(workspace).read() if e["event"] == "nightly"
    )  # after the night that drew
    again = holdout_plan.record_plan(
        SimpleNamespace(audit=audit_log(workspace), run_id="x", as_of=LATER, notes={}),
        pl.read_parquet(workspace / "reviews" / "holdout.parquet"),
    )
    assert again is None  # once
    out = tmp_path / "reviews.md"
    result = CliRunner().invoke(
        app, ["reviews", "report", "--config", str(config), "--out", str(out)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    drawn = pl.read_parquet(workspace / "reviews" / "holdout.parquet").height
    assert f"| eligible at the margin | {drawn} |" in text
    assert "**en:** No hold-out draw has reached its horizon" in text
    assert "| analysis plan | pre-registered |" in text and entries[0]["sha256"] in text
