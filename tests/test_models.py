"""Judgement around the model: metrics at capacity, fairness audit, drift, the promotion gate,
and what an analyst finds in MLflow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import mlflow
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from models.drift import drift_table, psi, reference_profile
from models.fairness import audit, flag_count
from models.metrics import at_capacity, expected_calibration_error, select_at_capacity, tie_break
from models.promotion import decide
from models.spec import PromotionSpec

D = date(2025, 6, 1)


def rows(scores: list[float], labels: list[int], teams: list[str] | None = None) -> pl.DataFrame:
    n = len(scores)
    return pl.DataFrame({
        "person_id": [f"p{i:03d}" for i in range(n)], "as_of": [D] * n,
        "team": teams or ["t"] * n, "score": scores, "label": labels,
    })  # fmt: skip


def test_precision_and_recall_at_each_teams_capacity() -> None:
    frame = rows([0.9, 0.8, 0.7, 0.6, 0.9, 0.1], [1, 0, 1, 0, 1, 1], ["a", "a", "a", "a", "b", "b"])
    selected = select_at_capacity(frame, "score", {"a": 2, "b": 1}.__getitem__)
    assert selected.filter(pl.col("selected"))["person_id"].sort().to_list() == [
        "p000",
        "p001",
        "p004",
    ]
    result = at_capacity(selected)
    assert result["precision_at_capacity"] == pytest.approx(2 / 3)
    assert result["recall_at_capacity"] == pytest.approx(2 / 4)


def test_ties_at_the_cut_off_are_broken_the_same_way_every_time() -> None:
    frame = rows([0.5] * 6, [1, 0, 1, 0, 1, 0])
    picks = {
        tuple(select_at_capacity(frame.sample(fraction=1, shuffle=True, seed=s), "score", lambda _: 2)
              .filter(pl.col("selected"))["person_id"].sort())
        for s in range(10)
    }  # fmt: skip
    assert len(picks) == 1
    keys = tie_break(frame["person_id"], frame["as_of"])
    assert keys.n_unique() == 6 and keys.equals(tie_break(frame["person_id"], frame["as_of"]))


def test_calibration_error_is_zero_for_calibrated_and_large_for_overconfident() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    y = rng.random(200_000) < p
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p * 1.6, 0, 1)) > 0.1


def test_fairness_audit_rates_ratios_flags_and_suppression() -> None:
    n = 200
    frame = pl.DataFrame({
        "label": [1] * 50 + [0] * 150,
        "selected": [True] * 40 + [False] * 10 + [True] * 10 + [False] * 140,
        "language": ["fi"] * 25 + ["sv"] * 25 + ["fi"] * 75 + ["sv"] * 70 + ["en"] * 5,
    })  # fmt: skip
    assert frame.height == n
    table = audit(frame, ["language"], min_cell=10, ratio_low=0.8, ratio_high=1.25)
    fi = table.filter(pl.col("group") == "fi").row(0, named=True)
    sv = table.filter(pl.col("group") == "sv").row(0, named=True)
    en = table.filter(pl.col("group") == "en").row(0, named=True)
    assert fi["reference"] == "fi"  # the largest group
    assert fi["selection_rate"] == pytest.approx(35 / 100)  # 25 positives and 10 negatives selected
    assert fi["recall"] == pytest.approx(25 / 25)
    assert sv["recall"] == pytest.approx(15 / 25)
    assert sv["recall_ratio"] == pytest.approx(0.6) and sv["recall_flag"]
    # Five people are too few: every rate and count of that cell is suppressed.
    assert en["n"] is None and en["selection_rate"] is None and not en["selection_rate_flag"]
    assert flag_count(table) >= 1


def test_population_stability_index() -> None:
    rng = np.random.default_rng(1)
    train = pl.DataFrame({"x": rng.normal(0, 1, 50_000)})
    same = pl.DataFrame({"x": rng.normal(0, 1, 50_000)})
    shifted = pl.DataFrame({"x": rng.normal(0.8, 1, 50_000)})
    profile = reference_profile(train, ["x"])
    assert drift_table(same, profile)["psi"][0] < 0.01
    assert drift_table(shifted, profile)["psi"][0] > 0.25
    assert psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0


def test_promotion_gate_refuses_a_worse_model() -> None:
    spec = PromotionSpec(precision_tolerance=0.02, max_calibration_error=0.05)
    champion = {
        "pooled_precision_at_capacity": 0.60,
        "pooled_calibration_error": 0.01,
        "fairness_flags": 2,
    }
    good = {
        "pooled_precision_at_capacity": 0.59,
        "pooled_calibration_error": 0.02,
        "fairness_flags": 2,
    }
    worse = {
        "pooled_precision_at_capacity": 0.50,
        "pooled_calibration_error": 0.02,
        "fairness_flags": 2,
    }
    unfair = {
        "pooled_precision_at_capacity": 0.65,
        "pooled_calibration_error": 0.02,
        "fairness_flags": 3,
    }
    miscalibrated = {
        "pooled_precision_at_capacity": 0.65,
        "pooled_calibration_error": 0.09,
        "fairness_flags": 0,
    }
    assert decide(good, champion, spec).promote
    assert not decide(worse, champion, spec).promote
    assert "worse than the champion" in decide(worse, champion, spec).text()
    assert not decide(unfair, champion, spec).promote
    assert not decide(miscalibrated, None, spec).promote
    assert decide(good, None, spec).promote


@pytest.mark.e2e
@pytest.mark.xdist_group("prefect")
def test_the_registered_champion_is_reproducible_from_its_mlflow_artifacts(
    published, tmp_path: Path
) -> None:
    """An analyst can rebuild every probability from the logged points and calibration tables."""
    from models.registry import Registry

    _, settings, _, _ = published
    registry = Registry(
        settings.mlflow_uri, settings.mlflow.experiment, settings.model.registered_name
    )
    model = registry.load("champion")
    version = registry.version_with_alias("champion")
    folder = Path(mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path="report",
                                                       tracking_uri=settings.mlflow_uri, dst_path=str(tmp_path)))  # fmt: skip
    points = pl.read_csv(folder / "points_table.csv")
    calibration = pl.read_csv(folder / "calibration_table.csv")
    caches = [
        p
        for p in (settings.workspace / "features").glob("*.parquet")
        if not p.name.endswith(".aside.parquet")
    ]
    matrix = pl.concat([pl.read_parquet(p) for p in caches])
    X = matrix.select(model.features).head(500)
    explained = model.estimator.explain(X, top=3)
    base = int(explained["base_points"][0])
    per_feature = explained.select([f"points_{f}" for f in model.features]).to_numpy()
    assert (per_feature.sum(axis=1) + base == explained["score"].to_numpy()).all()
    table = dict(zip(calibration["score"], calibration["probability"], strict=True))
    proba = model.estimator.predict_proba(X)[:, 1]
    assert np.array_equal(np.array([table[s] for s in explained["score"]]), proba)
    assert set(points["feature"]) == set(model.features)
    for feature in model.features:  # every feature's logged points include the person's points
        logged = set(points.filter(pl.col("feature") == feature)["points"].to_list())
        assert set(explained[f"points_{feature}"].to_list()) <= logged
    assert "gender" not in model.features and "language" not in model.features


@pytest.mark.e2e
@pytest.mark.xdist_group("prefect")
def test_a_worse_model_is_kept_as_challenger_and_the_report_says_why(
    published, tmp_path: Path, monkeypatch
) -> None:
    from tests.test_privacy import copy_workspace

    _, config = copy_workspace(
        published, tmp_path, features={"include": ["age"]},
        model={"challenger": {"enabled": False}, "promotion": {"max_calibration_error": 0.1}},
    )  # fmt: skip
    from flows.settings import load_settings

    settings = load_settings(config, env={})
    client = mlflow.MlflowClient(settings.mlflow_uri)
    before = client.get_model_version_by_alias(settings.model.registered_name, "champion").version
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Kept as challenger" in result.output and "worse than the champion" in result.output
    name = settings.model.registered_name
    assert client.get_model_version_by_alias(name, "champion").version == before
    challenger = client.get_model_version_by_alias(name, "challenger")
    assert "worse than the champion" in challenger.tags["promotion"]
    report = Path(mlflow.artifacts.download_artifacts(run_id=challenger.run_id, artifact_path="report/report.html",
                                                       tracking_uri=settings.mlflow_uri, dst_path=str(tmp_path)))  # fmt: skip
    assert "Kept as challenger" in report.read_text()


def test_the_deployed_model_reads_only_the_features_it_selected() -> None:
    """fit_risk_model keeps the scorecard's selected features as the model's inputs: the
    points table, the drift profile and the medians name those and no other; the path
    of the selection travels in the model's info."""
    from models.spec import ModelSpec, ScorecardSpec
    from models.training import fit_risk_model

    rng = np.random.default_rng(0)
    n = 4000
    signal = {"absences": rng.poisson(3, n), "days_since": rng.integers(0, 300, n)}
    noise = {f"noise_{k}": rng.normal(size=n) for k in range(10)}
    logit = -2.0 + 0.5 * signal["absences"] + 0.006 * signal["days_since"]
    rows = pl.DataFrame({
        "person_id": [f"p{i:05d}" for i in range(n)], "as_of": [D] * n,
        "label": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int), **signal, **noise,
    })  # fmt: skip
    features = [*signal, *noise]
    spec = ModelSpec(scorecard=ScorecardSpec(max_features=4, max_train_rows=10_000))
    model = fit_risk_model(rows, features, spec)
    assert {"absences", "days_since"} <= set(model.features) and len(model.features) <= 4
    assert model.estimator.n_features_in_ == len(model.features)
    assert set(model.estimator.points_table()["feature"]) == set(model.features)
    assert set(model.medians) == set(model.features)
    kept = model.info["selection_path"][: len(model.features)]
    assert set(kept) == set(model.features)
    assert len(model.info["selection_cv_log_loss"]) == len(model.info["selection_path"])
    proba = model.estimator.predict_proba(rows.select(model.features))[:, 1]
    assert proba[rows["absences"].to_numpy() >= 6].mean() > proba.mean()
