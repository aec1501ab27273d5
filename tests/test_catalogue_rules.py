"""The feature catalogue's rule: attributes of our own process are never model inputs."""

from __future__ import annotations

import pytest

from features.catalogue import build_catalogue, is_process_attribute, model_features
from features.spec import FeatureSpec
from flows.settings import load_settings


@pytest.fixture(scope="module")
def demo():
    """The demo configuration's feature spec and catalogue."""
    s = load_settings("configs/demo.yaml", env={})
    return s.features, build_catalogue(s.features, s.partners, s.indicators.use)


def test_consent_age_is_built_but_never_a_model_input(demo) -> None:
    """consent_days stays in the matrix (audits may read it) but never reaches the model."""
    spec, catalogue = demo
    assert "consent_days" in {f.name for f in catalogue}
    names = model_features(catalogue, spec)
    assert "consent_days" not in names
    assert not [n for n in names if is_process_attribute(n)]
    assert "age" in names and any(n.startswith("school_absence") for n in names)


@pytest.mark.parametrize(
    "name",
    ["consent_days", "consent_age", "channel", "recruitment_channel", "notice_version",
     "times_listed_365d", "listed_before", "list_count", "decision_contacted", "review_declined"],
)  # fmt: skip
def test_process_attributes_are_recognised_by_name(name: str) -> None:
    """Consent age, channel, notice version and list history are process attributes."""
    assert is_process_attribute(name)


@pytest.mark.parametrize(
    "name",
    ["age", "school_absence_sum_90d", "outreach_contact_days_since", "area_unemployment_rate",
     "employment_registration_n_all", "ohjaamo_visit_n_30d"],
)  # fmt: skip
def test_attributes_of_the_person_and_area_are_not_process_attributes(name: str) -> None:
    """Things about the young person and their area stay eligible."""
    assert not is_process_attribute(name)


def test_a_process_attribute_cannot_be_asked_for(demo) -> None:
    """Naming one in features.include is refused with a reason; a wildcard never picks one."""
    _, catalogue = demo
    with pytest.raises(ValueError, match=r"consent_days.*our own process"):
        model_features(catalogue, FeatureSpec(include=("age", "consent_days")))
    assert model_features(catalogue, FeatureSpec(include=("*",))) == model_features(
        catalogue, FeatureSpec(sensitive=())
    )
    assert "consent_days" not in model_features(catalogue, FeatureSpec(include=("consent*",)))
