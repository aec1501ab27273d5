"""What each run tells MLflow. Aggregates only: no row, no pseudonym, no name.

Training runs go to the experiment ``<mlflow.experiment>``: parameters (settings, data
hashes, code version), metrics per fold and pooled, the report's figures and tables, the
model card, the HTML report and the registered model. Nightly runs go to
``<mlflow.experiment>-nightly``: counts, flags, the score distribution and drift.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import polars as pl

from features.folds import Fold
from features.sources import Inputs
from flows.audit import Head
from flows.run import RunContext
from models import promotion
from models.bundle import RiskModel
from models.registry import CHALLENGER, CHAMPION, Registry
from models.report import build_report, drift_figure
from models.training import Evaluation


@dataclass
class TrainingOutcome:
    run_id: str
    version: str
    promoted: bool
    decision: str
    metrics: dict[str, float]
    report_uri: str
    ui_path: str = ""  # the run in the MLflow UI, opened as model training


# MLflow 3.17's UI opens in its GenAI view unless the address says otherwise.
UI_MODE = "workflowType=machine_learning"


def ui_path(experiment_id: str, run_id: str | None = None) -> str:
    """Where an analyst lands in the MLflow UI: the run (or the experiment's runs) in the
    model-training view, not the GenAI overview."""
    run = f"/runs/{run_id}" if run_id else ""
    return f"/#/experiments/{experiment_id}{run}?{UI_MODE}"


def audit_tags(head: Head | None) -> dict[str, str]:
    """The audit chain's head when a run starts, as MLflow tags: `ennakko audit verify
    --mlflow` then notices entries removed from the log, or the log emptied."""
    if head is None:
        return {}
    return {"audit_head_seq": str(head.seq), "audit_head_hash": head.hash}


def report_location(artifact_uri: str) -> str:
    """Where the HTML report can be opened: a file path for a local artifact store, else
    the run's artifact address (open it from the run's page in the MLflow UI)."""
    target = f"{artifact_uri.rstrip('/')}/report/report.html"
    if target.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(target).path)
    return target


def mark_failed(ctx: RunContext, run_id: str) -> None:
    """Mark a nightly MLflow run FAILED when its lists were never published."""
    registry_for(ctx).client.set_terminated(run_id, status="FAILED")


def registry_for(ctx: RunContext) -> Registry:
    s = ctx.settings
    root = s.mlflow_artifacts if s.mlflow.tracking_uri is None else None
    return Registry(s.mlflow_uri, s.mlflow.experiment, s.model.registered_name, root)


def code_version() -> str:
    """Package version and, in a git checkout, the commit."""
    version = metadata.version("ennakko")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{version}+{commit}" if commit else version


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out |= flatten(value, f"{name}.")
        else:
            out[name] = str(value)[:500]
    return out


def training_params(ctx: RunContext, folds: Sequence[Fold]) -> dict[str, str]:
    s = ctx.settings
    params = flatten(
        s.model_dump(
            mode="json",
            include={"features", "labels", "folds", "model", "outreach", "consent", "indicators"},
        )
    )
    params |= {f"data.{k}.sha256": v for k, v in ctx.notes.get("inputs", {}).items()}
    params |= {
        "code_version": code_version(),
        "as_of": ctx.as_of.isoformat(),
        "area": s.area_name,
        "folds.test_dates": ",".join(f.test.isoformat() for f in folds),
    }
    return params


def _write_artifacts(folder: Path, figures, tables, texts) -> None:
    for name, png in figures.items():
        (folder / name).write_bytes(png)
    for name, table in tables.items():
        table.write_csv(folder / name)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")


def _log_reviews(reviews: Mapping[str, pl.DataFrame], metrics: Mapping[str, float]) -> None:
    """The reviews report's tables and metrics, in the active run."""
    mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
    with tempfile.TemporaryDirectory() as tmp:
        _write_artifacts(Path(tmp), {}, {f"{n}.csv": t for n, t in reviews.items()}, {})
        mlflow.log_artifacts(tmp, artifact_path="reviews")


def _decide(ctx: RunContext, evaluation: Evaluation, champion_metrics) -> promotion.Decision:
    """The promotion gate on this run's metrics, against the champion or, for the first
    model, against the documented baseline (docs/fairness.md)."""
    return promotion.decide(
        evaluation.metrics(),
        champion_metrics,
        ctx.settings.model.promotion,
        audit=evaluation.fairness,
        baseline=evaluation.challenger_fairness,
        band=evaluation.band,
    )


def log_training(
    ctx: RunContext,
    model: RiskModel,
    evaluation: Evaluation,
    folds: Sequence[Fold],
    rows: pl.DataFrame,
    inputs: Inputs,
    reviews: Mapping[str, pl.DataFrame] | None = None,
    review_metrics: Mapping[str, float] | None = None,
) -> TrainingOutcome:
    """Log the run, register the model, apply the promotion gate, keep the snapshot.

    ``reviews`` (the `reviews report` tables, small cells suppressed) and
    ``review_metrics`` go into the same run: the monthly automation-bias watch.
    """
    s = ctx.settings
    registry = registry_for(ctx)
    experiment = registry.experiment_id()
    champion = registry.version_with_alias(CHAMPION)
    champion_metrics = registry.version_metrics(champion) if champion else None
    champion_model = registry.load(CHAMPION) if champion else None
    metrics = evaluation.metrics()
    decision = _decide(ctx, evaluation, champion_metrics)
    capacities = [s.outreach.capacity.for_team(t) for t in sorted(rows["team"].unique())]
    report = build_report(
        model,
        evaluation,
        area=s.area_name,
        as_of=ctx.as_of,
        horizon_days=s.labels.horizon_days,
        capacities=capacities or [s.outreach.capacity.default],
        promotion=s.model.promotion.model_dump(),
        promotion_text=decision.text(),
        champion=champion_model,
        champion_metrics=champion_metrics,
    )
    with mlflow.start_run(
        experiment_id=experiment, run_name=f"train {ctx.as_of.isoformat()}"
    ) as run:
        mlflow.set_tags(
            {
                "kind": "train",
                "ennakko.run_id": ctx.run_id,
                "decision": decision.text(),
                **audit_tags(ctx.audit.head()),
            }
        )
        mlflow.log_params(training_params(ctx, folds))
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            _write_artifacts(Path(tmp), report.figures, report.tables, report.texts)
            mlflow.log_artifacts(tmp, artifact_path="report")
        if reviews:
            _log_reviews(reviews, review_metrics or {})
        version = registry.log_model(model)
        run_id = run.info.run_id
        # Named for what it is once the version is known: two trainings on the same date
        # are told apart at a glance in the runs list.
        mlflow.set_tag("mlflow.runName", f"train {ctx.as_of.isoformat()} v{version.version}")
        report_path = report_location(run.info.artifact_uri)
    registry.set_alias(CHAMPION if decision.promote else CHALLENGER, version.version)
    registry.tag_version(version.version, "promotion", decision.text()[:5000])
    snapshot = ctx.ws.path("snapshots", f"{s.model.registered_name}-v{version.version}.parquet")
    ctx.ws.write_parquet(snapshot, rows.select("person_id", "as_of"))
    if s.mlflow.tracking_uri is None:
        ctx.ws.secure_tree(s.workspace / "mlflow")
    return TrainingOutcome(
        run_id=run_id,
        version=str(version.version),
        promoted=decision.promote,
        decision=decision.text(),
        metrics=metrics,
        report_uri=report_path,
        ui_path=ui_path(experiment, run_id),
    )


def log_nightly(
    ctx: RunContext,
    metrics: Mapping[str, float],
    tables: Mapping[str, pl.DataFrame],
    tags: Mapping[str, str],
) -> str:
    """One MLflow run per nightly scoring: counts, drift, score distribution."""
    s = ctx.settings
    registry = registry_for(ctx)
    experiment = registry.experiment_id(f"{s.mlflow.experiment}-nightly")
    with mlflow.start_run(
        experiment_id=experiment, run_name=f"nightly {ctx.as_of.isoformat()}"
    ) as run:
        mlflow.set_tags({"kind": "nightly", "ennakko.run_id": ctx.run_id, **tags})
        mlflow.log_params({"as_of": ctx.as_of.isoformat(), "code_version": code_version()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        figures = {}
        if "feature_drift.csv" in tables:
            figures["drift.png"] = drift_figure(
                tables["feature_drift.csv"], ctx.settings.outreach.drift_psi_alert
            )
        with tempfile.TemporaryDirectory() as tmp:
            _write_artifacts(Path(tmp), figures, tables, {})
            mlflow.log_artifacts(tmp, artifact_path="nightly")
        run_id = run.info.run_id
    if s.mlflow.tracking_uri is None:
        ctx.ws.secure_tree(s.workspace / "mlflow")
    return run_id
