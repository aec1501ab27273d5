"""The reach and consent funnel (issue 15 item 1): its numbers reconcile exactly, no
figure under the minimum cell size is published or follows by subtraction, and the page
renders in headless Chromium without errors."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.funnel import (
    DIMENSIONS,
    FACT_COLUMNS,
    STEPS,
    all_equations,
    build,
    by_group,
    cell,
    flow_table,
    key,
    partner_flow,
    recoverable,
    small_shown,
)

MIN_CELL = 5
AS_OF = date(2025, 9, 22)


def _reconciles(table: pl.DataFrame) -> list[str]:
    """Steps whose count is not the previous step's minus its reasons (unsuppressed)."""
    bad = []
    for (step, _), (nxt, _) in pairwise(STEPS):
        rows = table.filter(pl.col("step") == step)
        here = rows.filter(pl.col("reason").is_null())["persons"][0]
        why = rows.filter(pl.col("reason").is_not_null())["persons"].sum()
        after = table.filter((pl.col("step") == nxt) & pl.col("reason").is_null())["persons"][0]
        if after != here - why:
            bad.append(step)
    return bad


@pytest.fixture(scope="module")
def night_facts(published):
    """The funnel's facts read from the shared nightly run's workspace."""
    from flows.context import start
    from flows.funnel import facts, population

    _, settings_, _, config = published
    ctx = start(str(config), None, "funnel", settings=settings_)
    persons, asked = facts(ctx)
    return ctx, persons, population(ctx), config, asked, published[0]["mlflow_run"]


def test_on_the_nightly_run_each_step_is_the_previous_minus_its_reasons(night_facts) -> None:
    """Unsuppressed (min cell 1), every step and every group reconciles; the scored and
    listed counts are the night's own, and groups sum to the total."""
    ctx, facts, _, _, asked, _ = night_facts
    f = build(facts, ctx.as_of, 1)
    partners = partner_flow(asked, 1)
    assert set(partners["source"]) <= set(ctx.settings.partners) and partners.height
    for row in partners.iter_rows(named=True):
        assert row["asked about"] == row["rows returned"] + row["no rows"], row
    assert partners["rows returned"].sum() > 0 and partners["no rows"].sum() > 0
    overall = flow_table(f)
    assert _reconciles(overall) == []
    scores = pl.read_parquet(ctx.ws.path("scores", f"{ctx.as_of.isoformat()}.parquet"))
    assert f.shown[cell("scored")] == scores.height
    assert f.shown[cell("listed")] == int(scores["listed"].sum()) > 0
    assert f.shown[cell("consent given")] == facts.height
    for d in DIMENSIONS:
        for g in f.groups[d]:
            assert _reconciles(flow_table(f, d, g)) == [], (d, g)
        table = by_group(f, d)
        assert table.drop(d).sum().row(0) == tuple(f.shown[s] for s, _ in STEPS)


def test_on_the_nightly_run_nothing_small_is_published_or_recoverable(
    night_facts, tmp_path
) -> None:
    """Suppressed with the configured minimum: no small cell, no equation with one hidden
    cell, and the command's files carry the hidden marks, not the hidden numbers."""
    from typer.testing import CliRunner

    from flows.cli import app

    ctx, facts, population, config, _, run_id = night_facts
    min_cell = ctx.settings.privacy.min_cell_size
    f = build(facts, ctx.as_of, min_cell)
    assert small_shown(f) == []
    assert recoverable(f.shown, all_equations(f)) == []
    assert any(v is None for v in f.shown.values())  # the small city has small cells
    assert population.height > 0
    # The nightly of a Monday logged the same overall figures to its MLflow run, no others.
    import mlflow

    metrics = mlflow.MlflowClient(ctx.settings.mlflow_uri).get_run(run_id).data.metrics
    logged = {k: v for k, v in metrics.items() if k.startswith("funnel_")}
    steps = {k: v for k, v in logged.items() if not k.startswith("funnel_partner_")}
    overall = [v for k, v in f.shown.items() if "|" not in k and v is not None]
    assert ctx.as_of.weekday() == 0 and len(steps) == len(overall)
    assert steps["funnel_consent_given"] == f.shown[cell("consent given")]
    assert steps["funnel_scored_below_the_cut_off"] == f.shown[cell("scored", "below the cut-off")]
    assert all(v == 0 or v >= min_cell for v in logged.values())
    result = CliRunner().invoke(app, ["funnel", "-c", str(config), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "funnel.en.md").read_text()
    assert "| consent given |  | " + str(f.shown[cell("consent given")]) + " |" in md
    assert "–" in md and "Representativeness by area" in md
    fi = (tmp_path / "funnel.fi.md").read_text()
    assert "tavoittavuus ja suostumukset" in fi and "| suostumus annettu |" in fi


@st.composite
def facts_frames(draw) -> pl.DataFrame:
    n = draw(st.integers(0, 60))
    b = st.booleans()
    rows = []
    for i in range(n):
        rows.append({
            "person_id": f"P{i}",
            "status": draw(st.sampled_from(["valid", "valid", "valid", "withdrawn", "expired"])),
            "can_score": draw(b), "can_contact": draw(b), "client": draw(b), "scored": draw(b),
            "listed": draw(b), "decided": draw(b), "contacted": draw(b),
            "registered": draw(st.sampled_from([True, False, None])),
            "given_at": AS_OF - timedelta(days=draw(st.integers(0, 120))),
            "birth_year": draw(st.integers(1996, 2009)),
            "postal_code": draw(st.sampled_from(["00100", "00200", "00300", None])),
            "language": draw(st.sampled_from(["fi", "sv", "en"])),
            "team": draw(st.sampled_from(["a", "b"])), "asked_contact": draw(b),
        })  # fmt: skip
    return pl.DataFrame(rows, schema=FACT_COLUMNS)


@given(facts_frames())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_figure_under_the_minimum_appears_directly_or_by_subtraction(frame) -> None:
    """Whatever the persons, a published cell is 0 or at least the minimum, and in every
    printed equation (step = next + reasons; total = sum of groups) the hidden cells are
    none or at least two; shown cells keep their true values."""
    f = build(frame, AS_OF, MIN_CELL)
    truth = build(frame, AS_OF, 1).shown
    assert small_shown(f) == []
    assert recoverable(f.shown, all_equations(f)) == []
    assert all(v is None or v == truth[k] for k, v in f.shown.items())
    assert _reconciles(flow_table(build(frame, AS_OF, 1))) == []
    for d in DIMENSIONS:
        assert all(key(d, g, cell("consent given")) in f.shown for g in f.groups[d])


@given(
    st.lists(
        st.tuples(st.integers(0, 13), st.sampled_from(["direct", "school", "ohjaamo"]),
                  st.integers(0, 40), st.integers(0, 12)),
        max_size=30,
    )
)  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_no_consent_service_count_under_the_minimum_appears_or_follows(days) -> None:
    """Per week and channel, with an all-channels row: nothing small shown, and no week's
    step has exactly one hidden cell among its channels and its total."""
    from outreach.funnel import ALL_CHANNELS, portal_weekly

    daily = pl.DataFrame(
        [
            {"day": AS_OF - timedelta(days=d), "channel": c, "arrival": a, "login": n}
            for d, c, a, n in days
        ],
        schema={"day": pl.Date, "channel": pl.String, "arrival": pl.Int64, "login": pl.Int64},
    ).unique(["day", "channel"])
    weekly = portal_weekly(daily, MIN_CELL)
    for step in ("arrival", "login"):
        shown = weekly[step].drop_nulls().to_list()
        assert all(v == 0 or v >= MIN_CELL for v in shown)
        for (week,), part in weekly.group_by("week"):
            total = part.filter(pl.col("channel") == ALL_CHANNELS)[step]
            true = daily.filter(pl.col("day").dt.strftime("%G-W%V") == week)[step].sum()
            assert total.null_count() == 1 or total[0] == true
            assert part[step].null_count() != 1


def test_the_funnel_page_renders_in_headless_chromium_without_errors(
    chromium: str, night_facts, tmp_path: Path
) -> None:
    """The HTML page opens with no console error or failed request, has the funnel chart
    and the area table in both languages, and loads nothing from outside."""
    from outreach.funnel import partner_flow, portal_weekly, representativeness
    from outreach.funnel_page import page
    from tests.conftest import page_at

    ctx, facts, population, _, asked, _ = night_facts
    f = build(facts, ctx.as_of, ctx.settings.privacy.min_cell_size)
    partners = partner_flow(asked, ctx.settings.privacy.min_cell_size)
    daily = pl.DataFrame(
        {
            "day": [ctx.as_of] * 2,
            "channel": ["direct", "school"],
            "arrival": [40, 3],
            "login": [30, 2],
        }
    )
    portal = portal_weekly(daily, ctx.settings.privacy.min_cell_size)
    html = page(f, representativeness(f, population), partners, portal, ctx.as_of.isoformat())
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    path = tmp_path / "funnel.html"
    path.write_text(html)
    with page_at(chromium, path, 1200, 900) as (view, errors):
        bars = view.eval_on_selector_all("svg rect", "els => els.length")
        headings = view.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
    assert errors == []
    assert bars == 2 * len(STEPS)
    assert "Representativeness by area" in headings and "Edustavuus alueittain" in headings
    assert "Consent service per week and channel" in headings
    assert ">43<" in html and ">40<" not in html  # the total shows; a channel would reveal 3
