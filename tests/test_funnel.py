"""The reach and consent funnel (issue 15 item 1): its numbers reconcile exactly, no
figure under the minimum cell size is published or follows by subtraction, and the page
renders in headless Chromium without errors."""

from __future__ import annotations

from dataclasses import replace
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
    Funnel,
    all_equations,
    build,
    by_group,
    cell,
    flow_table,
    key,
    partner_flow,
    purposes,
    purposes_by_group,
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


def _purposes_reconcile(f: Funnel) -> list[tuple[str, str, str]]:
    """(dimension, group, purpose) whose given + not given is not the consent-given count,
    or whose groups do not sum to the overall figure (unsuppressed funnel)."""
    bad = []
    overall = purposes(f)
    groups = [(None, None), *((d, g) for d in DIMENSIONS for g in f.groups[d])]
    for d, g in groups:
        total = f.shown[cell("consent given") if d is None else key(d, g, cell("consent given"))]
        for p, yes, no in purposes(f, d, g).iter_rows():
            if yes + no != total:
                bad.append((d or "", g or "", p))
    for d in DIMENSIONS:
        table = purposes_by_group(f, d)
        for p, yes, no in overall.iter_rows():
            if (table[f"{p}: given"].sum(), table[f"{p}: not given"].sum()) != (yes, no):
                bad.append((d, "sum", p))
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
    assert _purposes_reconcile(f) == []
    names = {p for p, _ in f.purposes}
    assert names == {"scoring", "contact", *(f"source:{p}" for p in ctx.settings.partners)}
    valid = facts.filter(pl.col("status") == "valid")
    assert purposes(f).row(1) == (
        "contact",
        valid["can_contact"].sum(),
        facts.height - valid["can_contact"].sum(),
    )
    assert set(f.groups["channel"]) == set(facts["channel"]) and facts["channel"].null_count() == 0


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
            "channel": draw(st.sampled_from(["school", "ohjaamo", "web_form"])),
            "source_school": draw(b), "source_ohjaamo": draw(b),
        })  # fmt: skip
    schema = FACT_COLUMNS | {"source_school": pl.Boolean, "source_ohjaamo": pl.Boolean}
    return pl.DataFrame(rows, schema=schema)


@given(facts_frames())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_figure_under_the_minimum_appears_directly_or_by_subtraction(frame) -> None:
    """Whatever the persons, a published cell is 0 or at least the minimum, and in every
    printed equation (step = next + reasons; consent given = a purpose given + not given;
    total = sum of groups) the hidden cells are none or at least two; shown cells keep
    their true values, and unsuppressed the purposes reconcile."""
    f = build(frame, AS_OF, MIN_CELL)
    truth = build(frame, AS_OF, 1).shown
    assert small_shown(f) == []
    assert recoverable(f.shown, all_equations(f)) == []
    assert all(v is None or v == truth[k] for k, v in f.shown.items())
    assert _reconciles(flow_table(build(frame, AS_OF, 1))) == []
    assert _purposes_reconcile(build(frame, AS_OF, 1)) == []
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
    and the area and age-band tables in both languages, and loads nothing from outside."""
    from outreach.funnel import (
        partner_flow,
        portal_weekly,
        representativeness,
        representativeness_by_band,
    )
    from outreach.funnel_page import Report, page
    from tests.conftest import page_at

    ctx, facts, population, _, asked, _ = night_facts
    min_cell = ctx.settings.privacy.min_cell_size
    f = build(facts, ctx.as_of, min_cell)
    daily = pl.DataFrame(
        {
            "day": [ctx.as_of] * 2,
            "channel": ["direct", "school"],
            "arrival": [40, 3],
            "notice": [20, 0],
            "login": [30, 2],
        }
    )
    report = Report(
        funnel=f,
        areas=representativeness(f, population),
        bands=representativeness_by_band(f, _paavo_bands()),
        partners=partner_flow(asked, min_cell),
        portal=portal_weekly(daily, min_cell),
        as_of=ctx.as_of.isoformat(),
    )
    html = page(report)
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
    assert {"Representativeness by age band", "Edustavuus ikäryhmittäin"} <= set(headings)
    assert {"Consent per purpose and partner source: Channel", "Broken down: Channel"} <= set(
        headings
    )
    assert "read the privacy notice" in html and "lukenut tietosuojaselosteen" in html
    portal = html.split("Consent service per week and channel</h2>")[1].split("<h2>")[0]
    assert ">43<" in portal and ">40<" not in portal  # the total shows; a channel reveals 3


def _paavo_bands() -> pl.DataFrame:
    """The age-band populations of Helsinki's real Paavo 2023 export, derived."""
    from flows.funnel import population_by_band
    from indicators import derive_paavo_rates, read_indicators
    from tests.conftest import SHARED_DATA

    raw = read_indicators(SHARED_DATA / "paavo" / "009_12f7_2023_all.csv").data
    return population_by_band(derive_paavo_rates(raw))


def _persons(ages: dict[int, int]) -> pl.DataFrame:
    """Valid consents allowing everything, ``n`` persons of each age."""
    rows = [
        {"person_id": f"{age}-{i}", "status": "valid", "can_score": True, "can_contact": True,
         "client": False, "scored": False, "listed": False, "decided": False,
         "contacted": False, "registered": None, "given_at": AS_OF,
         "birth_year": AS_OF.year - age, "postal_code": "00100", "language": "fi",
         "team": "a", "asked_contact": False, "channel": "school"}
        for age, n in ages.items() for i in range(n)
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=FACT_COLUMNS)


def test_representativeness_by_age_band_against_paavo() -> None:
    """Paavo's 18-19, 20-24 and 25-29 populations (derived, or read raw when the table
    has only Paavo's own counts) against the persons who may be scored: shares of the
    18-29 year-olds and their ratio; 15-17 has persons but no population; a hidden band
    leaves no share to compute from published counts."""
    from flows.funnel import area_population, population_by_band
    from indicators import read_indicators
    from outreach.funnel import representativeness_by_band
    from tests.conftest import SHARED_DATA

    bands = _paavo_bands()
    raw = read_indicators(SHARED_DATA / "paavo" / "009_12f7_2023_all.csv").data
    assert population_by_band(raw).equals(bands)  # the raw Paavo counts give the same
    in_raw = raw.filter(pl.col("indicator") == "18_19_years_he")["value"].sum()
    assert dict(bands.iter_rows())["18-19"] == in_raw > 0
    assert area_population(raw)["population"].sum() == bands["population"].sum()
    f = build(_persons({16: 40, 18: 10, 19: 20, 22: 100, 27: 120}), AS_OF, MIN_CELL)
    rep = representativeness_by_band(f, bands)
    assert rep["age_band"].to_list() == ["15-17", "18-19", "20-24", "25-29"]
    first = rep.row(0, named=True)
    assert first["persons"] == 40 and first["population"] is None and first["ratio"] is None
    pop = dict(bands.iter_rows())
    for band, n in (("18-19", 30), ("20-24", 100), ("25-29", 120)):
        row = rep.filter(pl.col("age_band") == band).row(0, named=True)
        assert row["persons"] == n and row["consent_share"] == pytest.approx(n / 250)
        share = pop[band] / sum(pop.values())
        assert row["ratio"] == pytest.approx((n / 250) / share)
    hidden = representativeness_by_band(build(_persons({18: 3, 22: 50}), AS_OF, MIN_CELL), bands)
    assert hidden["consent_share"].null_count() == 4
    assert "–" not in str(hidden.filter(pl.col("age_band") == "20-24")["persons"][0])
    no_bands = representativeness_by_band(f, population_by_band(raw.head(0)))
    assert no_bands["population"].null_count() == 4
    from outreach.funnel import representativeness
    from outreach.funnel_page import Report, markdown

    areas = representativeness(f, pl.DataFrame({"area": ["00100"], "population": [4458.0]}))
    asked = pl.DataFrame(schema={"source": pl.String, "person_id": pl.String, "rows": pl.Boolean})
    report = Report(f, areas, no_bands, partner_flow(asked, MIN_CELL), None, AS_OF.isoformat())
    without = markdown(report, "en").split("## Representativeness by age band")[1]
    assert "holds no Paavo age-band populations" in without and "| 15-17 |" not in without
    with_bands = markdown(replace(report, bands=rep), "en")
    assert "| 15-17 | 40 | no figure |  |  |  |" in with_bands
