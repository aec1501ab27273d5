"""Judgement around the model: metrics at capacity, fairness audit, drift, the promotion gate,
and what an analyst finds in MLflow."""

from __future__ import annotations

import itertools
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
    """Rates and ratios per group; a flag only where the whole interval of the ratio is
    outside 0.8-1.25; a group of five is too small to judge, never fair or flagged."""
    frame = pl.DataFrame({
        "label": [1] * 500 + [0] * 1500,
        "selected": [True] * 250 + [False] * 0 + [True] * 150 + [False] * 100
        + [True] * 100 + [False] * 1400,
        "language": ["fi"] * 250 + ["sv"] * 250 + ["fi"] * 750 + ["sv"] * 745 + ["en"] * 5,
    })  # fmt: skip
    table = audit(frame, ["language"], min_cell=10, ratio_low=0.8, ratio_high=1.25, seed=1)
    fi = table.filter(pl.col("group") == "fi").row(0, named=True)
    sv = table.filter(pl.col("group") == "sv").row(0, named=True)
    en = table.filter(pl.col("group") == "en").row(0, named=True)
    assert fi["reference"] == "fi" and fi["status"] == "reference"  # the largest group
    assert fi["recall"] == pytest.approx(250 / 250)
    assert sv["recall"] == pytest.approx(150 / 250)
    assert sv["recall_ratio"] == pytest.approx(0.6)
    assert sv["recall_ratio_high"] < 0.8 and sv["recall_flag"]  # the whole interval is below
    assert sv["base_rate"] == pytest.approx(250 / 995)  # beside it: the world's own gap
    assert en["status"] == "too small to judge"
    assert en["n"] is None and en["selection_rate"] is None
    assert not any(en[f"{r}_flag"] for r in ("selection_rate", "precision", "recall"))
    assert flag_count(table) >= 1


def test_a_rate_resting_on_a_few_events_is_neither_shown_nor_judged() -> None:
    """False positives: 3 in the reference group (fi), 40 in sv. The reference's rate rests
    on fewer events than the minimum cell, so no group's false positive ratio is shown or
    flagged (a ratio of 13 would otherwise be "found"); a group's own rate on 4 events is
    suppressed, one on 0 events is shown."""
    frame = pl.DataFrame({
        "label": [0] * 3000 + [1] * 300,
        "selected": [True] * 3 + [False] * 1997 + [True] * 40 + [False] * 960
        + [True] * 150 + [False] * 150,
        "language": ["fi"] * 2000 + ["sv"] * 1000 + ["fi"] * 200 + ["sv"] * 100,
    })  # fmt: skip
    table = audit(frame, ["language"], min_cell=10, ratio_low=0.8, ratio_high=1.25, seed=2)
    sv = table.filter(pl.col("group") == "sv").row(0, named=True)
    fi = table.filter(pl.col("group") == "fi").row(0, named=True)
    assert fi["false_positive_rate"] is None  # 3 events
    assert sv["false_positive_rate"] == pytest.approx(40 / 1000)  # 40 events: shown
    assert sv["false_positive_rate_ratio"] is None and not sv["false_positive_rate_flag"]
    assert sv["false_positive_rate_ratio_low"] is None
    few = frame.with_columns(
        selected=pl.when((pl.col("language") == "sv") & (pl.col("label") == 0))
        .then(pl.int_range(pl.len()) % 250 == 0)  # 4 of sv's 1,000 negatives
        .otherwise(pl.col("selected"))
    )
    sv = audit(few, ["language"], min_cell=10, ratio_low=0.8, ratio_high=1.25).filter(
        pl.col("group") == "sv"
    )
    assert sv["false_positive_rate"][0] is None
    none = frame.with_columns(
        selected=pl.when((pl.col("language") == "sv") & (pl.col("label") == 0))
        .then(False)
        .otherwise(pl.col("selected"))
    )
    sv = audit(none, ["language"], min_cell=10, ratio_low=0.8, ratio_high=1.25).filter(
        pl.col("group") == "sv"
    )
    assert sv["false_positive_rate"][0] == 0.0


def test_a_gap_the_interval_cannot_tell_from_chance_is_not_flagged() -> None:
    """25 positives a group: a recall ratio of 0.68 has an interval reaching past 0.8."""
    frame = pl.DataFrame({
        "label": [1] * 50 + [0] * 150,
        "selected": [True] * 42 + [False] * 8 + [True] * 10 + [False] * 140,
        "language": ["fi"] * 25 + ["sv"] * 25 + ["fi"] * 75 + ["sv"] * 75,
    })  # fmt: skip
    sv = audit(frame, ["language"], min_cell=10, ratio_low=0.8, ratio_high=1.25).filter(
        pl.col("group") == "sv"
    )
    assert sv["recall_ratio"][0] == pytest.approx(17 / 25)
    assert sv["recall_ratio_high"][0] >= 0.8 and not sv["recall_flag"][0]


def test_fairness_intervals_match_the_known_binomial_answer() -> None:
    """Selection rate 0.3 in 2,000 persons: the bootstrap interval is the binomial one,
    0.3 ± 1.96·√(0.3·0.7/2000), within a few thousandths."""
    n = 2000
    frame = pl.DataFrame({
        "label": [0] * (2 * n),
        "selected": ([True] * 600 + [False] * 1400) * 2,
        "gender": ["F"] * n + ["M"] * n,
    })  # fmt: skip
    row = audit(
        frame, ["gender"], min_cell=10, ratio_low=0.8, ratio_high=1.25, replicates=3000, seed=3
    ).row(0, named=True)
    half = 1.96 * (0.3 * 0.7 / n) ** 0.5
    assert row["selection_rate"] == pytest.approx(0.3)
    assert row["selection_rate_low"] == pytest.approx(0.3 - half, abs=0.004)
    assert row["selection_rate_high"] == pytest.approx(0.3 + half, abs=0.004)


def test_the_model_card_counts_flags_per_attribute_and_names_the_widest() -> None:
    """Flags in plain words: a count per attribute, the widest first, with both groups'
    base rates."""
    from models.fairness import flag_sentences

    frame = pl.DataFrame({
        "label": [1] * 500 + [0] * 1500,
        "selected": [True] * 250 + [True] * 150 + [False] * 100 + [True] * 100 + [False] * 1400,
        "language": ["fi"] * 250 + ["sv"] * 250 + ["fi"] * 750 + ["sv"] * 745 + ["en"] * 5,
    })  # fmt: skip
    table = audit(frame, ["language"], min_cell=10, ratio_low=0.8, ratio_high=1.25)
    counts, widest = flag_sentences(table, limit=2)
    assert counts == [f"language: {flag_count(table)}"]
    assert len(widest) == 2 and all(s.startswith("language = sv:") for s in widest)
    assert "base rate 0.25 against 0.25" in widest[0]


def test_intersections_are_audited_as_groups_of_their_own() -> None:
    frame = pl.DataFrame({
        "label": [0, 1] * 40,
        "selected": [True, False] * 40,
        "gender": ["F", "M"] * 40,
        "language": ["fi"] * 40 + ["sv"] * 40,
    })  # fmt: skip
    table = audit(frame, ["gender"], min_cell=10, ratio_low=0.8, ratio_high=1.25,
                  intersections=[("gender", "language")])  # fmt: skip
    groups = set(table.filter(pl.col("attribute") == "gender × language")["group"])
    assert groups == {"F × fi", "M × fi", "F × sv", "M × sv"}


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
    # A flag as many as the champion's, but reaching much further outside the band.
    wider = {**good, "fairness_worst_gap": 0.30}
    assert not decide(wider, {**champion, "fairness_worst_gap": 0.10}, spec).promote
    assert decide(
        {**good, "fairness_worst_gap": 0.12}, {**champion, "fairness_worst_gap": 0.10}, spec
    ).promote


def _audit_table(cells: dict[tuple[str, str], tuple[float, float]]) -> pl.DataFrame:
    """An audit table with the given recall-ratio intervals per (attribute, group)."""
    from models.fairness import RATES

    rows = []
    for (attribute, group), (lo, hi) in cells.items():
        row = {"attribute": attribute, "group": group}
        for r in RATES:
            inside = r != "recall"
            row |= {f"{r}_ratio_low": 0.9 if inside else lo,
                    f"{r}_ratio_high": 1.1 if inside else hi,
                    f"{r}_flag": False if inside else (hi < 0.8 or lo > 1.25)}  # fmt: skip
        rows.append(row)
    return pl.DataFrame(rows)


def test_the_first_model_is_gated_against_the_documented_baseline() -> None:
    """No champion: group by group, the first model's interval may reach at most the
    tolerance (a quarter, as a ratio) further outside the band than the baseline's; an
    intersection is reported, not gated; without a baseline the text says so."""
    spec = PromotionSpec(first_model_fairness_tolerance=0.25)
    first = {"pooled_precision_at_capacity": 0.6, "pooled_calibration_error": 0.01}
    baseline = _audit_table({("language", "sv"): (0.55, 0.70), ("gender", "M"): (0.9, 1.1)})
    # sv: 0.8/0.60 against 0.8/0.70 is 1.17 times as far out; M: new, but only to 0.72.
    near = _audit_table({("language", "sv"): (0.45, 0.60), ("gender", "M"): (0.6, 0.72)})
    assert decide(first, None, spec, audit=near, baseline=baseline).promote
    # sv's interval now ends at 0.40: twice as far outside as the baseline's 0.70.
    far = _audit_table({("language", "sv"): (0.30, 0.40), ("gender", "M"): (0.9, 1.1)})
    refused = decide(first, None, spec, audit=far, baseline=baseline)
    assert not refused.promote
    assert "language = sv, recall" in refused.text() and "baseline" in refused.text()
    # A flag the baseline does not have, far outside the band, is refused too.
    added = _audit_table({("language", "sv"): (0.55, 0.70), ("gender", "M"): (0.3, 0.5)})
    assert not decide(first, None, spec, audit=added, baseline=baseline).promote
    # Intersections are too small to gate on: reported in the audit, not here.
    cross = pl.concat([near, _audit_table({("gender × language", "M × sv"): (0.1, 0.2)})])
    assert decide(first, None, spec, audit=cross, baseline=baseline).promote
    # The same gap far outside the band on both sides of it reads the same (log scale).
    above = _audit_table({("language", "sv"): (2.5, 3.0)})
    assert not decide(first, None, spec, audit=above, baseline=_audit_table(
        {("language", "sv"): (1.3, 1.5)})).promote  # fmt: skip
    no_baseline = decide(first, None, spec, audit=far, baseline=None)
    assert no_baseline.promote and "no baseline" in no_baseline.text()


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


def test_the_price_of_each_simplification_is_measured_step_by_step() -> None:
    """The ladder starts with every feature in fine bins and ends as deployed (at most
    max_features features, n_bins bins each, at most max_points points); each step's
    AUC given up is the difference of neighbouring rungs."""
    from models.simplicity import ladder, metrics, price_of_simplicity
    from models.spec import ModelSpec, ScorecardSpec
    from models.training import make_scorecard

    rng = np.random.default_rng(1)
    n = 6000
    signal = {"absences": rng.poisson(3, n), "days_since": rng.integers(0, 300, n)}
    noise = {f"noise_{k}": rng.normal(size=n) for k in range(5)}
    logit = -2.0 + 0.4 * signal["absences"] + 0.005 * signal["days_since"]
    data = pl.DataFrame({
        "person_id": [f"p{i:05d}" for i in range(n)], "as_of": [D] * n,
        "team": ["t"] * n, "can_contact": [True] * n,
        "label": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int), **signal, **noise,
    })  # fmt: skip
    spec = ModelSpec(scorecard=ScorecardSpec(max_features=3, n_bins=4, max_points=50))
    table = price_of_simplicity(
        data.head(4000), data.tail(2000), [*signal, *noise], spec, lambda _: 200, make_scorecard
    )
    assert table["step"].to_list() == [r.name for r in ladder(spec.scorecard)]
    first, last = table.row(0, named=True), table.row(-1, named=True)
    assert first["features"] == 7 and first["bins"] > 7 * 4
    assert last["features"] <= 3 and last["bins"] <= 3 * 4 and last["max_points"] <= 50
    assert 0.6 < last["roc_auc"] <= 1.0 and abs(first["roc_auc"] - last["roc_auc"]) < 0.05
    steps = table["auc_given_up"].to_list()
    assert steps[0] is None
    aucs = table["roc_auc"].to_list()
    assert steps[1:] == pytest.approx([a - b for a, b in itertools.pairwise(aucs)])
    logged = metrics(table)
    assert logged["price_of_simplicity_roc_auc"] == pytest.approx(aucs[0] - aucs[-1])
    assert logged["simplicity_5_0_100_points_roc_auc"] == pytest.approx(aucs[-1])
