"""The training flow: temporal folds, scorecard and challenger, audit, report, registry.

``ennakko train --config FILE [--as-of D]`` (and the monthly Prefect deployment) runs
:func:`train`. The nightly flow calls :func:`training_steps` itself when no champion is
registered yet, reusing the sources it has already validated.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from prefect import flow, get_run_logger

from features.folds import final_training_dates, temporal_folds
from features.sources import Inputs
from flows import pipeline
from flows.context import exclusive, start
from flows.reviews import report_tables, review_metrics
from flows.run import RunContext
from flows.steps import Step, as_task, direct
from flows.tracking import TrainingOutcome, log_training
from models.training import Evaluation, evaluate, fit_risk_model, price_ladder, truth_long


def evaluate_folds(ctx: RunContext, tset: pipeline.TrainingSet, folds) -> Evaluation:
    s = ctx.settings
    truth = None
    if s.truth_path is not None and s.truth_path.exists():
        truth = truth_long(pl.read_parquet(s.truth_path), tset.dates)
    return evaluate(
        tset.data,
        folds,
        tset.features,
        s.model,
        s.outreach.capacity.for_team,
        min_cell=s.privacy.min_cell_size,
        truth=truth,
        progress=ctx.say,
    )


def price_of_simplicity(ctx: RunContext, tset: pipeline.TrainingSet, folds) -> pl.DataFrame | None:
    s = ctx.settings
    return price_ladder(tset.data, folds, tset.features, s.model, s.outreach.capacity.for_team)


def fit_final(ctx: RunContext, tset: pipeline.TrainingSet, dates: list[date]):
    rows = tset.data.filter(pl.col("as_of").is_in(dates))
    info = {"train_from": min(dates).isoformat(), "train_to": max(dates).isoformat()}
    return fit_risk_model(rows, tset.features, ctx.settings.model, info), rows


def training_steps(
    ctx: RunContext, inputs: Inputs, indicators: pl.DataFrame, step: Step = direct
) -> TrainingOutcome:
    """Folds, evaluation, final fit, report and registration. The caller holds the
    workspace lock."""
    s = ctx.settings
    dates = pipeline.training_dates(ctx, inputs)
    folds = temporal_folds(dates, s.labels.horizon_days, s.folds)
    final = final_training_dates(dates, s.folds)
    needed = sorted({d for f in folds for d in (*f.train, f.test)} | set(final))
    ctx.say(f"{len(folds)} folds, {len(needed)} as-of dates, final model on {len(final)} dates")
    tset = step("training set", pipeline.training_set, ctx, inputs, indicators, needed)
    evaluation = step("evaluate on temporal folds", evaluate_folds, ctx, tset, folds)
    evaluation.simplicity = step(
        "price of each simplification", price_of_simplicity, ctx, tset, folds
    )
    model, rows = step("fit production model", fit_final, ctx, tset, final)
    outcome = step(
        "report and register",
        log_training,
        ctx,
        model,
        evaluation,
        folds,
        rows,
        inputs,
        report_tables(ctx, inputs.outcomes),
        review_metrics(ctx),
    )
    ctx.say(outcome.decision)
    pipeline.record(
        ctx,
        "train",
        model_version=outcome.version,
        promoted=outcome.promoted,
        inputs=ctx.notes.get("inputs", {}),
        training_rows=rows.height,
        metrics={k: round(v, 4) for k, v in outcome.metrics.items() if k.startswith("pooled_")},
    )
    return outcome


@flow(name="ennakko-train", log_prints=False)
def train(config: str, as_of: str | None = None) -> dict:
    """Train, evaluate and register a model; promote it if the gate allows."""
    ctx = start(config, as_of, "train", say=get_run_logger().info)
    with exclusive(ctx):
        inputs = as_task("validate sources", pipeline.validate_sources, ctx)
        indicators = as_task("read indicators", pipeline.load_indicator_table, ctx)
        outcome = training_steps(ctx, inputs, indicators, as_task)
    return outcome.__dict__
