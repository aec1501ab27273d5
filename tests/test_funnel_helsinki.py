"""The funnel at helsinki scale (130,000 persons, 8.8 M partner rows): every step is the
previous one minus its reasons, in every group and for every purpose, and nothing small
is published or follows by subtraction, on a real night (issue 15, "Done when").

A training run at this scale takes minutes, so the night scores with the champion the
shared demo night trained (``published``), registered again in this city's own MLflow
store: the lists, scores and consent gate are the real nightly job's (``flows.nightly
.night``), only the model was fitted elsewhere. Nobody has decided or registered yet, so
the last steps are zero; the test is of the arithmetic, which does not care.
"""

from __future__ import annotations

import time

import polars as pl
import pytest

from outreach.funnel import (
    DIMENSIONS,
    STEPS,
    all_equations,
    build,
    by_group,
    cell,
    flow_table,
    partner_flow,
    recoverable,
    small_shown,
)
from tests.conftest import AS_OF, write_config
from tests.test_funnel import _purposes_reconcile, _reconciles

SEED = 7


@pytest.fixture(scope="module")
def helsinki(published, tmp_path_factory: pytest.TempPathFactory):
    """The helsinki-scale city, one real night on it, and the funnel's facts read from it
    (``flows.funnel.facts``: sources, consent gate, stored scores). About 45 s here."""
    import mlflow

    from flows.context import exclusive, start
    from flows.funnel import facts
    from flows.nightly import night
    from flows.settings import load_settings
    from flows.tracking import registry_for
    from models.registry import CHAMPION
    from synth import generate_city, spec_for_scale

    began = time.perf_counter()
    folder = tmp_path_factory.mktemp("helsinki")
    generate_city(spec_for_scale("helsinki", SEED), folder / "city")
    data = {"workspace": str(folder / "workspace"), "data_dir": str(folder / "city")}
    config = write_config(folder / "ennakko.yaml", {**data, "as_of": AS_OF})
    settings = load_settings(config, env={})
    _, demo_settings, _, demo_config = published
    model = registry_for(start(str(demo_config), None, "funnel", settings=demo_settings)).load()
    ctx = start(str(config), None, "nightly", settings=settings)
    registry = registry_for(ctx)
    with mlflow.start_run(experiment_id=registry.experiment_id()):
        version = registry.log_model(model)
    registry.set_alias(CHAMPION, version.version)
    with exclusive(ctx):
        night(ctx)
    ctx = start(str(config), None, "funnel", settings=settings)
    persons, asked = facts(ctx)
    wall = time.perf_counter() - began
    print(f"\nhelsinki fixture: {wall:.1f} s for {persons.height:,} persons")
    return ctx, persons, asked


def test_at_helsinki_scale_each_step_is_the_previous_minus_its_reasons(helsinki) -> None:
    """Unsuppressed, every step reconciles overall and in every group, every purpose's
    given + not given is the consent-given count, groups sum to the total, and the
    scored and listed counts are the night's stored scores."""
    ctx, persons, asked = helsinki
    assert persons.height == 130_000
    f = build(persons, ctx.as_of, 1)
    assert _reconciles(flow_table(f)) == []
    for d in DIMENSIONS:
        for g in f.groups[d]:
            assert _reconciles(flow_table(f, d, g)) == [], (d, g)
        table = by_group(f, d)
        assert table.drop(d).sum().row(0) == tuple(f.shown[s] for s, _ in STEPS), d
    assert _purposes_reconcile(f) == []
    scores = pl.read_parquet(ctx.ws.path("scores", f"{ctx.as_of.isoformat()}.parquet"))
    assert f.shown[cell("scored")] == scores.height > 50_000
    assert f.shown[cell("listed")] == int(scores["listed"].sum()) > 0
    assert len(f.groups["channel"]) == 5 and len(f.groups["area"]) > 50
    for row in partner_flow(asked, 1).iter_rows(named=True):
        assert row["asked about"] == row["rows returned"] + row["no rows"] > 0, row


def test_at_helsinki_scale_nothing_small_is_published_or_recoverable(helsinki) -> None:
    """With the configured minimum, jointly over every breakdown and purpose: no small
    cell, no printed equation with a single hidden cell, shown cells true. The
    suppression's time at this scale is printed (about half a second here)."""
    ctx, persons, _ = helsinki
    min_cell = ctx.settings.privacy.min_cell_size
    began = time.perf_counter()
    f = build(persons, ctx.as_of, min_cell)
    took = time.perf_counter() - began
    eqs = all_equations(f)
    print(f"\nhelsinki funnel built and suppressed in {took:.2f} s ({len(eqs):,} equations)")
    assert small_shown(f) == []
    assert recoverable(f.shown, eqs) == []
    truth = build(persons, ctx.as_of, 1).shown
    assert all(v is None or v == truth[k] for k, v in f.shown.items())
    hidden = [k for k, v in f.shown.items() if v is None]
    assert hidden and all("|" in k for k in hidden)  # only small groups; the totals show
