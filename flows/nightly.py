"""The nightly flow: validate → consent gate → features → score → lists → publish → log.

``ennakko run --config FILE [--as-of D]`` and the nightly Prefect deployment (02:00
Europe/Helsinki) run :func:`nightly`. If no model is registered as ``champion`` yet, the
flow trains one first. If any step fails, nothing is published: yesterday's lists stay.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from features.build import FeatureMatrix
from features.errors import SourceError
from features.sources import Inputs
from flows import pipeline
from flows.context import start
from flows.lists import Lists, build_lists, publish_lists, save_scores
from flows.partitions import Partition, assign, combine, features_and_scores
from flows.pipeline import Gate, RunContext
from flows.tracking import log_nightly, registry_for
from flows.training import indicators_task, training_steps, validate_task
from models import drift
from models.bundle import RiskModel, score
from models.registry import CHAMPION

TASK = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="consent gate", **TASK)
def gate_task(ctx: RunContext, inputs: Inputs) -> Gate:
    return pipeline.gate(ctx, inputs, [ctx.as_of])


@task(name="features", **TASK)
def features_task(
    ctx: RunContext, inputs: Inputs, g: Gate, indicators: pl.DataFrame
) -> FeatureMatrix:
    return pipeline.cached_features(ctx, inputs, indicators, g.cohort)


@task(name="features and scores of an area partition", **TASK)
def partition_task(part: Partition, indicators, spec, partners, uses, model):
    return features_and_scores(part, indicators, spec, partners, uses, model)


def partitioned_scores(
    ctx: RunContext, inputs: Inputs, g: Gate, indicators: pl.DataFrame, model: RiskModel
) -> tuple[FeatureMatrix, pl.DataFrame]:
    """Build and score area partitions as separate tasks (on Dask when the flow runs with a
    DaskTaskRunner); the combined result equals the one-pass result."""
    s = ctx.settings
    parts = assign(g.cohort, s.executor.partitions)
    part_of = pl.concat(
        [p.select("person_id").with_columns(part=pl.lit(i, pl.Int32)) for i, p in enumerate(parts)]
    )
    part_of = part_of.select(person=inputs.codes(part_of["person_id"]), part="part").drop_nulls()
    tagged = inputs.events.join(part_of, on="person", how="inner")
    events = tagged.partition_by("part", as_dict=True, include_key=False)
    empty = inputs.events.clear()
    futures = [
        partition_task.submit(
            Partition(part, events.get((i,), empty), inputs.register),
            indicators,
            s.features,
            dict(s.partners),
            s.indicators.use,
            model,
        )
        for i, part in enumerate(parts)
    ]
    return combine([f.result() for f in futures])


@task(name="champion model", **TASK)
def champion_task(ctx: RunContext) -> RiskModel | None:
    return registry_for(ctx).load(CHAMPION)


@task(name="score", **TASK)
def score_task(model: RiskModel, matrix: FeatureMatrix) -> pl.DataFrame:
    return score(model, matrix)


def with_cohort(scored: pl.DataFrame, g: Gate) -> pl.DataFrame:
    keep = [c for c in g.cohort.columns if c != "as_of"]
    return scored.join(g.cohort.select(keep), on="person_id", how="left")


@task(name="drift", **TASK)
def drift_task(ctx: RunContext, model: RiskModel, matrix: FeatureMatrix, scored: pl.DataFrame):
    features = drift.drift_table(matrix.frame, model.profile)
    score_psi = drift.drift_table(
        scored.select(pl.col("points").cast(pl.Float64)), model.score_profile
    )
    psi = float(score_psi["psi"][0]) if score_psi.height else 0.0
    top = float(features["psi"].max() or 0.0) if features.height else 0.0
    alert = max(top, psi) > ctx.settings.outreach.drift_psi_alert
    return features, psi, alert


@task(name="lists", **TASK)
def lists_task(ctx, scored, model, matrix, inputs, alert) -> Lists:
    return build_lists(ctx, scored, model, matrix, inputs, alert)


@task(name="publish", **TASK)
def publish_task(ctx: RunContext, lists: Lists, model: RiskModel):
    return publish_lists(ctx, lists, model)


def _suppress(counts: dict[str, int], min_cell: int) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v >= min_cell or v == 0}


@flow(name="ennakko-nightly", log_prints=False)
def nightly(config: str, as_of: str | None = None, executor: str | None = None) -> dict[str, Any]:
    """Score everyone in scope on the as-of date and publish each team's list.

    ``executor="dask"`` builds and scores area partitions as separate tasks; run the flow
    with a DaskTaskRunner (``ennakko run --executor dask``) to spread them over workers.
    """
    ctx = start(config, as_of, "nightly")
    logger = get_run_logger()
    s = ctx.settings
    inputs = validate_task(ctx)
    indicators = indicators_task(ctx)
    g = gate_task(ctx, inputs)
    logger.info(f"consent gate on {ctx.as_of}: {g.counts}")
    model = champion_task(ctx)
    trained = None
    if model is None:
        logger.info("no champion registered yet: training one first")
        trained = training_steps(ctx, inputs, indicators)
        model = champion_task(ctx)
        if model is None:
            raise SourceError(
                "model registry",
                f"no champion: the first model was not promoted ({trained.decision})",
                hint="Read the training report in MLflow; adjust the model or the gate.",
            )
    if (executor or s.executor.kind) == "dask":
        matrix, scored = partitioned_scores(ctx, inputs, g, indicators, model)
    else:
        matrix = features_task(ctx, inputs, g, indicators)
        scored = score_task(model, matrix)
    scored = with_cohort(scored, g)
    feature_drift, score_psi, alert = drift_task(ctx, model, matrix, scored)
    lists = lists_task(ctx, scored, model, matrix, inputs, alert)
    folder, manifest = publish_task(ctx, lists, model)
    save_scores(ctx, scored, lists)
    min_cell = s.privacy.min_cell_size
    bands = scored.with_columns(
        band=pl.when(pl.col("probability") >= s.outreach.bands.high)
        .then(pl.lit("high"))
        .when(pl.col("probability") >= s.outreach.bands.medium)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )
    distribution = dict(bands.group_by("band").len().iter_rows())
    metrics = {
        "cohort": g.counts["cohort"],
        "listed": lists.rows.height,
        "score_psi": score_psi,
        "max_feature_psi": float(feature_drift["psi"].max() or 0.0)
        if feature_drift.height
        else 0.0,
        "drift_alert": float(alert),
        **{f"consents_{k}": v for k, v in _suppress(g.counts, min_cell).items()},
        **{f"band_{k}": v for k, v in _suppress(distribution, min_cell).items()},
        **{f"flag_{k}": v for k, v in manifest["flags"].items()},
        **{f"excluded_{k}": v for k, v in lists.exclusions.__dict__.items()},
        "probability_mean": float(scored["probability"].mean() or 0.0),
        **{
            f"probability_p{q}": float(scored["probability"].quantile(q / 100) or 0.0)
            for q in (10, 50, 90, 99)
        },
    }
    mlflow_run = log_nightly(
        ctx,
        metrics,
        {"feature_drift.csv": feature_drift},
        {"model_version": str(model.version), "drift_alert": str(alert)},
    )
    pipeline.record(
        ctx,
        "nightly",
        model_version=model.version,
        inputs=ctx.notes.get("inputs", {}),
        consents=g.counts,
        erased_excluded=g.erased,
        outputs={
            pipeline.relative(ctx, folder / name): digest
            for name, digest in manifest["files"].items()
        },
        listed=lists.rows.height,
        drift_alert=alert,
    )
    summary = {
        "as_of": ctx.as_of.isoformat(),
        "lists": str(ctx.ws.path("lists", ctx.as_of.isoformat())),
        "manifest": str(folder / "manifest.json"),
        "listed": lists.rows.height,
        "teams": {t: v["rows"] for t, v in manifest["teams"].items()},
        "model_version": model.version,
        "drift_alert": alert,
        "mlflow_run": mlflow_run,
        "trained": trained.__dict__ if trained else None,
    }
    create_markdown_artifact(markdown=_markdown(summary, manifest, g.counts), key="nightly-summary")
    return summary


def _markdown(summary: dict[str, Any], manifest: dict[str, Any], counts: dict[str, int]) -> str:
    lines = [
        f"# Ennakko nightly run {summary['as_of']}",
        "",
        f"Lists: `{summary['lists']}` (model version {summary['model_version']}).",
        "Every row needs a counsellor's decision; the lists decide nothing.",
        "",
        "| team | rows | capacity |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {t} | {v['rows']} | {v['capacity']} |" for t, v in manifest["teams"].items()]
    lines += ["", "| flag | rows |", "| --- | --- |"]
    lines += [f"| {f} | {n} |" for f, n in manifest["flags"].items()]
    lines += ["", f"Drift alert: **{summary['drift_alert']}**.", "", "Consents:", ""]
    lines += [f"- {k}: {v}" for k, v in counts.items()]
    return "\n".join(lines)
