"""The training flow: temporal folds, scorecard and challenger, audit, report, registry.

``ennakko train --config FILE [--as-of D]`` (and the monthly Prefect deployment) runs
:func:`train`. The nightly flow calls :func:`training_steps` itself when no champion is
registered yet, reusing the sources it has already validated.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from features.folds import final_training_dates, temporal_folds
from features.sources import Inputs
from flows import pipeline
from flows.context import start
from flows.pipeline import RunContext
from flows.reviews import report_tables, review_metrics
from flows.tracking import TrainingOutcome, log_training
from models.training import Evaluation, evaluate, fit_risk_model, truth_long

TASK = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="validate sources", **TASK)
def validate_task(ctx: RunContext) -> Inputs:
    return pipeline.validate_sources(ctx)


@task(name="read indicators", **TASK)
def indicators_task(ctx: RunContext) -> pl.DataFrame:
    return pipeline.load_indicator_table(ctx)


@task(name="training set", **TASK)
def training_set_task(ctx, inputs, indicators, dates) -> pipeline.TrainingSet:
    return pipeline.training_set(ctx, inputs, indicators, dates)


@task(name="evaluate on temporal folds", **TASK)
def evaluate_task(ctx: RunContext, tset: pipeline.TrainingSet, folds) -> Evaluation:
    s = ctx.settings
    truth = None
    if s.truth_path is not None and s.truth_path.exists():
        truth = truth_long(pl.read_parquet(s.truth_path), tset.dates)
    logger = get_run_logger()
    return evaluate(
        tset.data,
        folds,
        tset.features,
        s.model,
        s.outreach.capacity.for_team,
        min_cell=s.privacy.min_cell_size,
        truth=truth,
        progress=logger.info,
    )


@task(name="fit production model", **TASK)
def fit_task(ctx: RunContext, tset: pipeline.TrainingSet, dates: list[date]):
    rows = tset.data.filter(pl.col("as_of").is_in(dates))
    info = {"train_from": min(dates).isoformat(), "train_to": max(dates).isoformat()}
    return fit_risk_model(rows, tset.features, ctx.settings.model, info), rows


def training_steps(ctx: RunContext, inputs: Inputs, indicators: pl.DataFrame) -> TrainingOutcome:
    """Folds, evaluation, final fit, report and registration, as tasks of the current flow."""
    logger = get_run_logger()
    s = ctx.settings
    dates = pipeline.training_dates(ctx, inputs)
    folds = temporal_folds(dates, s.labels.horizon_days, s.folds)
    final = final_training_dates(dates, s.folds)
    needed = sorted({d for f in folds for d in (*f.train, f.test)} | set(final))
    logger.info(f"{len(folds)} folds, {len(needed)} as-of dates, final model on {len(final)} dates")
    tset = training_set_task(ctx, inputs, indicators, needed)
    evaluation = evaluate_task(ctx, tset, folds)
    model, rows = fit_task(ctx, tset, final)
    outcome = log_training(
        ctx,
        model,
        evaluation,
        folds,
        rows,
        inputs,
        reviews=report_tables(ctx, inputs.outcomes),
        review_metrics=review_metrics(ctx),
    )
    logger.info(outcome.decision)
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
    ctx = start(config, as_of, "train")
    inputs = validate_task(ctx)
    indicators = indicators_task(ctx)
    outcome = training_steps(ctx, inputs, indicators)
    return outcome.__dict__
