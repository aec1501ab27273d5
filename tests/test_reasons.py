"""Reasons a counsellor can act on, checked against a real fitted scorecard.

Property: for any person and any consent, each reason's bin carries more points than the
feature's reference bin, and no reason comes from a partner the person has not consented
to, nor from age, area or "no data" features (those are background or nothing).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.catalogue import NEVER, build_catalogue, by_name
from features.spec import FeatureSpec, Labels, PartnerSpec
from models.scorecard import ScorecardClassifier
from outreach.reasons import add_reasons, references

PARTNERS = {
    "school": PartnerSpec(label=Labels(fi="Ammattiopisto", sv="Yrkesinstitut", en="School"),
                          event_types=("absence", "credits"), value_meaning={"credits": "points"}),
    "ohjaamo": PartnerSpec(label=Labels(fi="Ohjaamo", sv="Navigatorn", en="Ohjaamo"),
                           event_types=("visit",)),
}  # fmt: skip
CATALOGUE = by_name(build_catalogue(FeatureSpec(), PARTNERS, ()))
FEATURES = ["age", "school_absence_n_90d", "school_credits_sum_365d",
            "school_absence_days_since", "school_unknown", "ohjaamo_visit_n_90d"]  # fmt: skip


def _persons(rng: np.random.Generator, n: int) -> pl.DataFrame:
    school = rng.random(n) < 0.8
    since = np.where(rng.random(n) < 0.2, NEVER, rng.integers(1, 700, n))
    return pl.DataFrame({
        "age": rng.integers(16, 30, n),
        "school_absence_n_90d": np.where(school, rng.poisson(3, n), 0),
        "school_credits_sum_365d": np.where(school, rng.gamma(2, 12, n).round(), 0),
        "school_absence_days_since": np.where(school, since, NEVER),
        "school_unknown": (~school).astype(int),
        "ohjaamo_visit_n_90d": rng.poisson(1, n),
    })  # fmt: skip


@pytest.fixture(scope="module")
def fitted() -> ScorecardClassifier:
    rng = np.random.default_rng(12)
    X = _persons(rng, 3000)
    logit = (
        -1.5 + 0.25 * X["school_absence_n_90d"].to_numpy()
        - 0.03 * X["school_credits_sum_365d"].to_numpy()
        + 0.4 * X["ohjaamo_visit_n_90d"].to_numpy() + 0.05 * (X["age"].to_numpy() - 22)
    )  # fmt: skip
    y = (rng.random(X.height) < 1 / (1 + np.exp(-logit))).astype(int)
    return ScorecardClassifier(cv=2).fit(X, y)


def _reasons(model: ScorecardClassifier, X: pl.DataFrame, consents: dict[str, list[bool]]):
    listed = pl.DataFrame({
        "person_id": [f"p{i}" for i in range(X.height)], "language": ["fi"] * X.height,
        "postal_code": ["00100"] * X.height,
        **{f"source_{p}": flags for p, flags in consents.items()},
    })  # fmt: skip
    explained = model.explain(X, top=3)
    medians = {c: float(X[c].median()) for c in X.columns}
    out = add_reasons(listed, explained, X, CATALOGUE, medians, model.points_table())
    return out, explained


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25), data=st.data())
def test_each_reason_outscores_its_reference_bin_and_has_consent(
    fitted: ScorecardClassifier, seed: int, n: int, data
) -> None:
    """For every person and consent, a reason's feature gave more points than the
    feature's reference bin and comes from a partner the person consented to; age, area
    and "no data" never appear as reasons."""
    X = _persons(np.random.default_rng(seed), n)
    consents = {p: data.draw(st.lists(st.booleans(), min_size=n, max_size=n)) for p in PARTNERS}
    out, explained = _reasons(fitted, X, consents)
    refs = references(fitted.points_table())
    for i in range(n):
        for k in (1, 2, 3):
            name, text = out[f"reason_{k}_feature"][i], out[f"reason_{k}"][i]
            assert (name is None) == (text is None)
            if name is None:
                continue
            feature = CATALOGUE[name]
            assert feature.event_key is not None and feature.kind != "missing"
            assert consents[feature.source][i], (name, i)
            assert explained[f"points_{name}"][i] > refs[name].points


def test_a_person_with_many_absences_gets_the_figure_as_a_reason(
    fitted: ScorecardClassifier,
) -> None:
    """A concrete case: 14 absences in 90 days under a school consent reads as that figure;
    without the consent the same person gets no school reason at all."""
    X = _persons(np.random.default_rng(1), 1).with_columns(
        school_absence_n_90d=pl.lit(14), ohjaamo_visit_n_90d=pl.lit(0),
        school_credits_sum_365d=pl.lit(60.0),
    )  # fmt: skip
    out, _ = _reasons(fitted, X, {"school": [True], "ohjaamo": [True]})
    reasons = [out[f"reason_{k}"][0] for k in (1, 2, 3)]
    assert any(r and r.startswith("Poissaolot viimeisen 90 päivän aikana: 14") for r in reasons)
    out, _ = _reasons(fitted, X, {"school": [False], "ohjaamo": [True]})
    features = [out[f"reason_{k}_feature"][0] for k in (1, 2, 3)]
    assert not any(f and f.startswith("school_") for f in features)
    assert out["age_band"][0] is not None and out["home_area"][0] == "00100"


def test_a_bin_that_would_read_backwards_gives_no_reason() -> None:
    """Few absences or many credits never read as a risk, even where the model's bins gave
    them points; an event without a side (Ohjaamo visits) may give a reason either way."""
    listed = pl.DataFrame({"person_id": ["x"], "language": ["en"], "source_school": [True],
                           "source_ohjaamo": [True]})  # fmt: skip
    names = ["school_absence_n_90d", "school_credits_sum_365d", "ohjaamo_visit_n_90d"]
    explained = pl.DataFrame({f"points_{n}": [5] for n in names})
    values = pl.DataFrame({"school_absence_n_90d": [0], "school_credits_sum_365d": [80.0],
                           "ohjaamo_visit_n_90d": [0]})  # fmt: skip
    points = pl.DataFrame({
        "feature": [n for n in names for _ in range(2)],
        "lower": [None, 3.0] * 3, "upper": [3.0, None] * 3,
        "points": [5, 0, 5, 0, 5, 0], "count": [10] * 6})  # fmt: skip
    out = add_reasons(listed, explained, values, CATALOGUE, {}, points)
    assert out["reason_1_feature"][0] == "ohjaamo_visit_n_90d"
    assert out["reason_1"][0] == "Visits to Ohjaamo in the last 90 days: only 0"
    assert out["reason_2"][0] is None
