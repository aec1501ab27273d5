"""As-of features: only what was known before D, windows exactly where they say."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from features.build import build_features, indicator_values
from features.catalogue import NEVER, build_catalogue, model_features
from features.consent import consent_state, in_scope
from features.spec import ConsentPolicy, FeatureSpec, IndicatorUse, Labels, PartnerSpec
from synth.city import shipped_indicators

D = date(2024, 6, 1)
PARTNERS = {
    "school": PartnerSpec(
        label=Labels(fi="Ammattiopisto", sv="Yrkesinstitut", en="Vocational school"),
        event_types=("absence", "credits"),
        value_meaning={"absence": "hours"},
    ),
    "ohjaamo": PartnerSpec(
        label=Labels(fi="Ohjaamo", sv="Navigatorn", en="Ohjaamo"), event_types=("visit",)
    ),
}
SPEC = FeatureSpec(windows_days=(30, 90), trend_windows_days=(30,))
USES = (IndicatorUse(indicator="unemployment_rate", area_level="postal_code", lag_days=60),)
EVENT_SCHEMA = {"person_id": pl.String, "source": pl.String, "event_type": pl.String,
                "event_date": pl.Date, "value": pl.Float64}  # fmt: skip


def cohort(as_of: date | list[date], people: int = 3) -> pl.DataFrame:
    dates = as_of if isinstance(as_of, list) else [as_of]
    rows = [
        {"person_id": f"p{i}", "consent_id": f"c{i}", "given_at": date(2023, 1, 1), "expires_at": None,
         "withdrawn_at": None, "purposes": "scoring,contact,source:school,source:ohjaamo",
         "channel": "web", "notice_version": "v3", "birth_year": 2003, "postal_code": "00100",
         "language": "fi", "team": "t", "gender": "F"}
        for i in range(people)
    ]  # fmt: skip
    consents = pl.DataFrame(rows).with_columns(pl.col("expires_at", "withdrawn_at").cast(pl.Date))
    state = consent_state(consents, dates, ConsentPolicy(), PARTNERS)
    return in_scope(state, pl.DataFrame(schema={"person_id": pl.String, "service": pl.String,
                                                "start": pl.Date, "end": pl.Date}))  # fmt: skip


def events(rows: list[tuple[str, str, str, date, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=EVENT_SCHEMA, orient="row")


def build(c: pl.DataFrame, ev: pl.DataFrame, indicators: pl.DataFrame | None = None):
    ind = indicators if indicators is not None else shipped_indicators()
    return build_features(c, ev, ind, SPEC, PARTNERS, USES)


def value(matrix, person: str, name: str, as_of: date = D):
    row = matrix.frame.filter((pl.col("person_id") == person) & (pl.col("as_of") == as_of))
    return row[name].item()


def test_counts_sums_recency_and_trend_on_a_tiny_history() -> None:
    ev = events([
        ("p0", "school", "absence", D - timedelta(days=1), 2.0),
        ("p0", "school", "absence", D - timedelta(days=30), 3.0),
        ("p0", "school", "absence", D - timedelta(days=31), 4.0),
        ("p0", "school", "absence", D - timedelta(days=200), 1.0),
        ("p1", "ohjaamo", "visit", D - timedelta(days=10), 0.0),
    ])  # fmt: skip
    m = build(cohort(D), ev)
    assert value(m, "p0", "school_absence_n_30d") == 2  # days 1 and 30: the window is [D-30, D)
    assert value(m, "p0", "school_absence_sum_30d") == 5.0
    assert value(m, "p0", "school_absence_n_90d") == 3
    assert value(m, "p0", "school_absence_n_all") == 4
    assert value(m, "p0", "school_absence_days_since") == 1
    assert value(m, "p0", "school_absence_trend_30d") == 2 - 1  # (0,30] minus (30,60]
    assert value(m, "p2", "school_absence_n_all") == 0  # consented, nothing recorded: zero
    assert value(m, "p2", "school_absence_days_since") == NEVER
    assert value(m, "p1", "ohjaamo_visit_n_30d") == 1
    decay = sum(math.exp(-d / 60) for d in (1, 30, 31, 200))
    assert value(m, "p0", "school_absence_decay_60d") == pytest.approx(decay, abs=1e-6)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    past=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["absence", "credits"]),
                            st.integers(1, 800), st.floats(0, 10)), max_size=30),
    future=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["absence", "credits"]),
                              st.integers(0, 400), st.floats(0, 10)), min_size=1, max_size=30),
)  # fmt: skip
def test_rows_dated_on_or_after_D_change_nothing(past, future) -> None:
    """Adding any rows dated D or later (events, indicators) leaves the matrix for D as it was."""
    before = events([(f"p{p}", "school", t, D - timedelta(days=d), v) for p, t, d, v in past])
    late = events([(f"p{p}", "school", t, D + timedelta(days=d), v) for p, t, d, v in future])
    indicators = shipped_indicators()
    late_indicators = pl.DataFrame({
        "area_code": ["00100"], "area_level": ["postal_code"], "period": [f"{D.year}-{D.month:02d}"],
        "indicator": ["unemployment_rate"], "value": [99.0]})  # fmt: skip
    a = build(cohort(D), before, indicators)
    b = build(cohort(D), pl.concat([before, late]), pl.concat([indicators, late_indicators]))
    assert_frame_equal(a.frame, b.frame)


@pytest.mark.parametrize("window", [30, 90])
def test_moving_a_row_across_a_window_edge_changes_exactly_that_window(window: int) -> None:
    inside = events([("p0", "school", "absence", D - timedelta(days=window), 1.0)])
    outside = events([("p0", "school", "absence", D - timedelta(days=window + 1), 1.0)])
    a, b = build(cohort(D), inside), build(cohort(D), outside)
    changed = {c for c in a.names if value(a, "p0", c) != value(b, "p0", c)}
    expected = {
        f"school_absence_n_{window}d",
        f"school_absence_sum_{window}d",
        "school_absence_days_since",
        "school_absence_decay_60d",  # a decayed count moves with every day, by design
    }
    if window == 30:
        expected |= {"school_absence_trend_30d"}  # the trend's window moves with it
    assert changed == expected


def test_many_dates_in_one_pass_equal_one_date_at_a_time(city: Path) -> None:
    from features.sources import load_inputs
    from flows.settings import load_settings
    from tests.conftest import ROOT

    s = load_settings(ROOT / "configs" / "demo.yaml", env={}, overrides={"data_dir": str(city)})
    inputs = load_inputs(city, dict(s.sources), s.partners, date(2025, 12, 1))
    dates = [date(2024, m, 1) for m in (1, 4, 7, 10)]
    state = consent_state(inputs.consents, dates, s.consent, s.partners)
    c = in_scope(state, inputs.services)
    ind = shipped_indicators()
    many = build_features(
        c, inputs.events, ind, s.features, s.partners, s.indicators.use, inputs.register
    )
    for d in dates:
        one = build_features(c.filter(pl.col("as_of") == d), inputs.events, ind, s.features,
                             s.partners, s.indicators.use, inputs.register)  # fmt: skip
        assert_frame_equal(one.frame, many.frame.filter(pl.col("as_of") == d))


def test_indicator_is_not_known_before_it_is_published() -> None:
    """Paavo 2023 (period ends 2023-12-31) with a 60-day lag is first usable on 2024-03-01."""
    ind = shipped_indicators()
    use = USES[0]
    on = indicator_values(ind, use, [date(2024, 3, 1)]).filter(pl.col("area_code") == "00100")
    before = indicator_values(ind, use, [date(2024, 2, 29)]).filter(pl.col("area_code") == "00100")
    paavo = ind.filter(
        (pl.col("area_code") == "00100") & (pl.col("indicator") == "unemployment_rate")
    )
    assert on["value"].item() == paavo.filter(pl.col("period") == "2023")["value"].item()
    assert before["value"].item() == paavo.filter(pl.col("period") == "2022")["value"].item()


def test_missing_area_statistics_are_filled_with_the_mean_of_all_areas_and_flagged() -> None:
    """The fill is a property of the published table, not of who else is built alongside."""
    c = cohort(D).with_columns(postal_code=pl.when(pl.col("person_id") == "p0").then(pl.lit("99999"))
                               .otherwise(pl.col("postal_code")))  # fmt: skip
    m = build(c, events([]))
    assert value(m, "p0", "area_unknown") == 1 and value(m, "p1", "area_unknown") == 0
    published = indicator_values(shipped_indicators(), USES[0], [D])
    assert value(m, "p0", "area_unemployment_rate") == pytest.approx(published["value"].mean())
    alone = build(c.filter(pl.col("person_id") == "p0"), events([]))
    assert value(alone, "p0", "area_unemployment_rate") == value(m, "p0", "area_unemployment_rate")


def test_no_consent_for_a_source_is_flagged_not_zeroed_silently() -> None:
    c = cohort(D).with_columns(source_school=pl.col("person_id") != "p0")
    m = build(c, events([("p0", "school", "absence", D - timedelta(days=3), 1.0)]))
    assert value(m, "p0", "school_unknown") == 1 and value(m, "p1", "school_unknown") == 0
    assert value(m, "p0", "school_absence_n_30d") == 0


def test_catalogue_describes_every_feature_in_three_languages() -> None:
    catalogue = build_catalogue(SPEC, PARTNERS, USES)
    m = build(cohort(D), events([]))
    assert [f.name for f in catalogue] == m.names
    for feature in catalogue:
        assert feature.description and feature.impute
        for lang in ("fi", "sv", "en"):
            assert feature.reason_high[lang], (feature.name, lang)
    assert "gender" not in model_features(catalogue, FeatureSpec(sensitive=("gender", "language")))
    assert "age" not in model_features(catalogue, FeatureSpec(exclude=("age",)))


def test_sensitive_attributes_are_kept_aside_not_in_the_matrix() -> None:
    m = build(cohort(D), events([]))
    assert "gender" not in m.frame.columns and "language" not in m.frame.columns
    assert {"gender", "language", "age_band", "area_group"} <= set(m.aside.columns)
    assert m.aside.select("person_id", "as_of").equals(m.frame.select("person_id", "as_of"))
