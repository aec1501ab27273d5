"""What an analyst sees in MLflow (issue 12, item 6): a model-training experiment, runs
named for what they are, a report that shows every row it promises at a path that opens,
the candidate beside the champion, and a drift plot for every night."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from tests.test_privacy import copy_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]


def client_for(workspace: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{workspace / 'mlflow' / 'mlflow.db'}")


def test_experiments_open_as_model_training_and_runs_are_named(published) -> None:
    _, settings, _, _ = published
    client = client_for(settings.workspace)
    for name in ("ennakko", "ennakko-nightly"):
        experiment = client.get_experiment_by_name(name)
        assert experiment.tags.get("mlflow.experimentKind") == "custom_model_development"
    train = client.search_runs([client.get_experiment_by_name("ennakko").experiment_id])
    assert [r.info.run_name for r in train] == ["train 2025-12-01 v1"]
    # MLflow 3.17's UI keeps a GenAI view by default: the printed address asks for training.
    path = published[0]["trained"]["ui_path"]
    assert path.endswith(f"/runs/{train[0].info.run_id}?workflowType=machine_learning")


def test_the_report_opens_from_a_path_and_shows_every_points_row(published) -> None:
    """The printed location is a file; its points table has every row of the CSV, and
    the model card's lists are real lists."""
    summary, _, _, _ = published
    report = Path(summary["trained"]["report_uri"])
    assert report.is_file(), report
    page = report.read_text(encoding="utf-8")
    points = pl.read_csv(report.parent / "points_table.csv")
    section = page.split("<h2>points table</h2>", 1)[1].split("<h2>", 1)[0]
    assert section.count("<tr>") == points.height + 1  # the header row and every bin
    assert f"{points.height:,} rows." in section
    assert "<ul>" in page and "<li>" in page


def test_every_nightly_run_logs_a_drift_plot(published) -> None:
    summary, settings, _, _ = published
    client = client_for(settings.workspace)
    names = {a.path for a in client.list_artifacts(summary["mlflow_run"], "nightly")}
    assert {"nightly/drift.png", "nightly/feature_drift.csv"} <= names


def test_a_second_training_is_compared_with_the_champion(published, tmp_path) -> None:
    """A new candidate's report holds its metrics beside the champion's and how each
    feature's points changed; the run is named with its own version."""
    from flows import pipeline
    from flows.context import exclusive, start
    from flows.training import training_steps

    workspace, config = copy_workspace(published, tmp_path)
    ctx = start(str(config), None, "train")
    with exclusive(ctx):
        inputs = pipeline.validate_sources(ctx)
        outcome = training_steps(ctx, inputs, pipeline.load_indicator_table(ctx))
    folder = Path(outcome.report_uri).parent
    compared = pl.read_csv(folder / "compared_with_champion.csv")
    auc = compared.filter(pl.col("metric") == "roc_auc").row(0, named=True)
    assert auc["champion"] is not None and auc["candidate"] is not None
    assert auc["difference"] == pytest.approx(auc["candidate"] - auc["champion"])
    points = pl.read_csv(folder / "points_compared_with_champion.csv")
    assert set(points["change"]) <= {"added", "dropped", "kept"} and points.height > 0
    run = client_for(workspace).get_run(outcome.run_id)
    assert re.fullmatch(r"train 2025-12-01 v\d+", run.info.run_name)
    assert run.info.run_name.endswith(f"v{outcome.version}")
