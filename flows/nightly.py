"""The nightly flow: validate → consent gate → features → score → lists → publish → log.

``ennakko run --config FILE [--as-of D]`` and the nightly Prefect deployment (02:00
Europe/Helsinki) run :func:`nightly`. If no model is registered as ``champion`` yet, the
flow trains one first. If any step fails, nothing is published: yesterday's lists stay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from features.build import FeatureMatrix
from features.errors import SourceError
from features.sources import Inputs
from flows import pipeline
from flows.context import exclusive, start
from flows.funnel import log_weekly
from flows.holdout_plan import record_plan
from flows.lists import Lists, build_lists, list_stability, stage_lists, stage_scores
from flows.partitions import Partition, assign, combine, features_and_scores
from flows.pipeline import Gate, RunContext
from flows.staleness import check_stale_share
from flows.steps import Step, as_task, direct
from flows.tracking import audit_tags, log_nightly, mark_failed, registry_for
from flows.training import training_steps
from models import drift
from models.bundle import RiskModel, score
from models.registry import CHALLENGER, CHAMPION
from outreach.assemble import risk_band
from outreach.publish import commit, discard
from outreach.stability import metrics as stability_metrics

TASK = {"cache_policy": NO_CACHE, "persist_result": False}


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


def with_cohort(scored: pl.DataFrame, g: Gate) -> pl.DataFrame:
    keep = [c for c in g.cohort.columns if c != "as_of"]
    return scored.join(g.cohort.select(keep), on="person_id", how="left")


def drift_check(ctx: RunContext, model: RiskModel, matrix: FeatureMatrix, scored: pl.DataFrame):
    features = drift.drift_table(matrix.frame, model.profile)
    score_psi = drift.drift_table(
        scored.select(pl.col("points").cast(pl.Float64)), model.score_profile
    )
    psi = float(score_psi["psi"][0]) if score_psi.height else 0.0
    top = float(features["psi"].max() or 0.0) if features.height else 0.0
    alert = max(top, psi) > ctx.settings.outreach.drift_psi_alert
    return features, psi, alert


def _suppress(counts: dict[str, int], min_cell: int) -> dict[str, int]:
    """Counts of persons that may be published: zero, or at least ``min_cell``
    (outreach.cells.publishable)."""
    return {k: v for k, v in counts.items() if v >= min_cell or v == 0}


def night_metrics(
    ctx: RunContext, g: Gate, scored: pl.DataFrame, lists: Lists, drift: tuple, flags: dict
) -> dict[str, float]:
    """What the nightly MLflow run records: counts, bands, flags, drift; no cell under
    the minimum size."""
    s = ctx.settings
    feature_drift, score_psi, alert = drift
    min_cell = s.privacy.min_cell_size
    bands = scored.select(band=risk_band(pl.col("probability"), s.outreach))
    distribution = dict(bands.group_by("band").len().iter_rows())
    return {
        "cohort": g.counts["cohort"],
        "listed": lists.rows.height,
        "score_psi": score_psi,
        "max_feature_psi": float(feature_drift["psi"].max() or 0.0)
        if feature_drift.height
        else 0.0,
        "drift_alert": float(alert),
        **{f"consents_{k}": v for k, v in _suppress(g.counts, min_cell).items()},
        **{f"band_{k}": v for k, v in _suppress(distribution, min_cell).items()},
        **{f"flag_{k}": v for k, v in _suppress(flags, min_cell).items()},
        **{f"excluded_{k}": v for k, v in _suppress(lists.exclusions.__dict__, min_cell).items()},
        **stability_metrics((lists.stability or {}).get("teams", {}), min_cell),
        "probability_mean": float(scored["probability"].mean() or 0.0),
        **{
            f"probability_p{q}": float(scored["probability"].quantile(q / 100) or 0.0)
            for q in (10, 50, 90, 99)
        },
    }


def publish_night(
    ctx: RunContext,
    g: Gate,
    model: RiskModel,
    scored: pl.DataFrame,
    lists: Lists,
    drift_result: tuple,
) -> tuple[Path, dict[str, Any], str]:
    """The night's one transaction: stage the lists and scores, log MLflow, append the
    audit entry, then switch ``lists/<D>`` to the new version.

    Any failure before the switch removes what was staged: the previous lists, scores and
    audit log stay as they were (an audit entry already written is followed by a
    ``publish-aborted`` entry, so the log tells the truth).
    """
    staged = stage_lists(ctx, lists, model)
    files: list[tuple[Path, Path]] = []
    entry, mlflow_run = None, None
    try:
        files = stage_scores(ctx, scored, lists)
        head = ctx.audit.head()
        mlflow_run = log_nightly(
            ctx,
            night_metrics(ctx, g, scored, lists, drift_result, staged.manifest["flags"]),
            {"feature_drift.csv": drift_result[0]},
            {
                "model_version": str(model.version),
                "drift_alert": str(drift_result[2]),
                **audit_tags(head),
            },
        )
        entry = pipeline.record(
            ctx,
            "nightly",
            model_version=model.version,
            inputs=ctx.notes.get("inputs", {}),
            consents=g.counts,
            erased_excluded=g.erased,
            outputs={
                pipeline.relative(ctx, staged.folder / name): digest
                for name, digest in staged.manifest["files"].items()
            },
            listed=lists.rows.height,
            drift_alert=drift_result[2],
            mlflow_run=mlflow_run,
        )
        staged.manifest["audit_head"] = {"seq": entry["seq"], "hash": entry["hash"]}
        folder = commit(staged)
    except BaseException as exc:
        discard(staged)
        ctx.ws.discard_staged(files)
        if entry is not None:
            pipeline.record(
                ctx, "publish-aborted", failed_entry=entry["seq"], error=type(exc).__name__
            )
        if mlflow_run is not None:  # the MLflow run describes a night nobody saw
            mark_failed(ctx, mlflow_run)
        raise
    try:
        ctx.ws.commit_staged(files)
    except OSError as exc:  # the lists are live; say that tonight's scores were not kept
        pipeline.record(ctx, "scores-not-saved", published_entry=entry["seq"], error=str(exc))
        raise
    record_plan(ctx, lists.draws)  # the hold-out's first draws: the plan's hash, once
    return folder, staged.manifest, mlflow_run


def night(ctx: RunContext, step: Step = direct, executor: str = "local") -> dict[str, Any]:
    """The nightly job as a list of stages; the flow runs it with ``step=as_task``, the
    benchmark and the tests call it directly. The caller holds the workspace lock."""
    s = ctx.settings
    inputs = step("validate sources", pipeline.validate_sources, ctx)
    pipeline.check_covered(ctx, inputs)
    indicators = step("read indicators", pipeline.load_indicator_table, ctx)
    g = step("consent gate", pipeline.gate_on_run_date, ctx, inputs)
    ctx.say(f"consent gate on {ctx.as_of}: {_suppress(g.counts, s.privacy.min_cell_size)}")
    model = step("champion model", champion, ctx)
    trained = None
    if model is None:
        ctx.say("no champion registered yet: training one first")
        trained = training_steps(ctx, inputs, indicators, step)
        model = step("champion model", champion, ctx)
        if model is None:
            raise SourceError(
                "model registry",
                f"no champion: the first model was not promoted ({trained.decision})",
                hint="Read the training report in MLflow; adjust the model or the gate.",
            )
    if executor == "dask":
        matrix, scored = partitioned_scores(ctx, inputs, g, indicators, model)
    else:
        matrix = step("features", pipeline.cached_features, ctx, inputs, indicators, g.cohort)
        scored = step("score", score, model, matrix)
    scored = with_cohort(scored, g)
    drift_result = step("drift", drift_check, ctx, model, matrix, scored)
    lists = step("lists", build_lists, ctx, scored, model, matrix, inputs, drift_result[2])
    check_stale(ctx, inputs, lists)
    lists.stability = list_stability(ctx, inputs, g.state, scored, lists)
    folder, manifest, mlflow_run = step(
        "publish", publish_night, ctx, g, model, scored, lists, drift_result
    )
    if ctx.as_of.weekday() == 0:  # once a week: the reach and consent funnel's counts
        step("funnel", log_weekly, ctx, inputs, g, mlflow_run)
    return {
        "as_of": ctx.as_of.isoformat(),
        "lists": str(ctx.ws.path("lists", ctx.as_of.isoformat())),
        "manifest": str(folder / "manifest.json"),
        "listed": lists.rows.height,
        "teams": {t: v["rows"] for t, v in manifest["teams"].items()},
        "model_version": model.version,
        "drift_alert": drift_result[2],
        "mlflow_run": mlflow_run,
        "trained": trained.__dict__ if trained else None,
        "_flags": manifest["flags"],
        "_teams": manifest["teams"],
        "_counts": g.counts,
    }


def champion(ctx: RunContext) -> RiskModel | None:
    """The model that scores tonight. A bench whose first model the gate kept back
    scores with that challenger (scoring speed does not depend on the model); a nightly
    run never does."""
    registry = registry_for(ctx)
    model = registry.load(CHAMPION)
    if model is None and ctx.kind == "bench":
        model = registry.load(CHALLENGER)
    return model


def check_stale(ctx: RunContext, inputs: Inputs, lists: Lists) -> None:
    """Stop before publishing when too many listed persons rest on stale partner data."""
    s = ctx.settings
    check_stale_share(
        int(lists.rows["flag_stale_data"].sum()) if lists.rows.height else 0,
        lists.rows.height,
        s.outreach.max_stale_share,
        ctx.as_of,
        inputs.newest_event,
        {name: spec.max_age_days for name, spec in s.partners.items()},
    )


@flow(name="ennakko-nightly", log_prints=False)
def nightly(config: str, as_of: str | None = None, executor: str | None = None) -> dict[str, Any]:
    """Score everyone in scope on the as-of date and publish each team's list.

    ``executor="dask"`` builds and scores area partitions as separate tasks; run the flow
    with a DaskTaskRunner (``ennakko run --executor dask``) to spread them over workers.
    """
    ctx = start(config, as_of, "nightly", say=get_run_logger().info)
    with exclusive(ctx):
        summary = night(ctx, as_task, executor or ctx.settings.executor.kind)
    flags, teams, counts = summary.pop("_flags"), summary.pop("_teams"), summary.pop("_counts")
    min_cell = ctx.settings.privacy.min_cell_size  # Prefect's store is no place for small cells
    flags, counts = _suppress(flags, min_cell), _suppress(counts, min_cell)
    create_markdown_artifact(
        markdown=_markdown(summary, flags, teams, counts), key="nightly-summary"
    )
    return summary


def _markdown(
    summary: dict[str, Any], flags: dict[str, int], teams: dict[str, Any], counts: dict[str, int]
) -> str:
    lines = [
        f"# Ennakko nightly run {summary['as_of']}",
        "",
        f"Lists: `{summary['lists']}` (model version {summary['model_version']}).",
        "Every row needs a counsellor's decision; the lists decide nothing.",
        "",
        "| team | rows | capacity |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {t} | {v['rows']} | {v['capacity']} |" for t, v in teams.items()]
    lines += ["", "| flag | rows |", "| --- | --- |"]
    lines += [f"| {f} | {n} |" for f, n in flags.items()]
    lines += ["", f"Drift alert: **{summary['drift_alert']}**.", "", "Consents:", ""]
    lines += [f"- {k}: {v}" for k, v in counts.items()]
    lines += ["", "Counts under the minimum cell size are left out."]
    return "\n".join(lines)
