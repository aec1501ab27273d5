"""The synthetic city: deterministic for a seed, and every file passes its data contract."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features.contracts import CONTRACTS, Context, events_contract
from features.readers import locate, read_source
from features.spec import ReadSpec
from features.validate import validate
from synth import CitySpec, generate_city
from synth.city import EVENT_TYPES, file_digest
from tests.conftest import SMALL_CITY

PARTNERS = tuple(EVENT_TYPES)


def test_same_seed_gives_identical_files(tmp_path: Path, city: Path) -> None:
    again = tmp_path / "again"
    generate_city(SMALL_CITY, again)
    for name in (
        "consents/register.parquet",
        "contacts/register.parquet",
        "events",
        "outcomes.parquet",
        "truth",
    ):
        assert file_digest(city / name) == file_digest(again / name), name


def test_another_seed_gives_another_city(tmp_path: Path, city: Path) -> None:
    other = tmp_path / "other"
    generate_city(CitySpec(n_persons=SMALL_CITY.n_persons, seed=12), other)
    assert file_digest(city / "consents/register.parquet") != file_digest(
        other / "consents/register.parquet"
    )


@pytest.mark.parametrize("source", ["consents", "contacts", "outcomes", "services"])
def test_core_sources_pass_their_contracts(city: Path, source: str) -> None:
    ctx = Context(reference_date=date(2025, 12, 1), partners=PARTNERS)
    frame = read_source(locate(city, source, ReadSpec()), ReadSpec())
    result = validate(frame, CONTRACTS[source](ctx), source=source)
    assert result.bad.is_empty(), result.reasons()


@pytest.mark.parametrize("partner", PARTNERS)
def test_partner_events_pass_their_contracts(city: Path, partner: str) -> None:
    ctx = Context(date(2025, 12, 1), PARTNERS, EVENT_TYPES[partner])
    spec = ReadSpec()
    frame = read_source(locate(city, f"events/{partner}", spec), spec)
    result = validate(frame, events_contract(ctx, partner), source=partner)
    assert result.bad.is_empty(), result.reasons()
    assert result.good["event_date"].max() < date(2025, 12, 1)


def test_school_is_a_finnish_spreadsheet_export(city: Path) -> None:
    raw = (city / "events" / "school.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, first = raw[3:].decode().splitlines()[:2]
    assert header == "person_id;event_date;event_type;value"
    assert first.split(";")[1].count(".") == 2 and "," in first.split(";")[3]


def test_consent_register_has_the_realistic_mix(city: Path) -> None:
    consents = pl.read_parquet(city / "consents/register.parquet")
    assert consents["withdrawn_at"].is_not_null().sum() > 0
    assert (consents["expires_at"] < date(2025, 12, 1)).sum() > 0
    assert consents["person_id"].n_unique() < consents.height  # renewals
    assert (~consents["purposes"].str.contains("contact")).sum() > 0
    assert (~consents["purposes"].str.contains("source:school")).sum() > 0
    assert consents["notice_version"].n_unique() == 3


def test_history_covers_three_years_and_four_partners(city: Path) -> None:
    for partner in PARTNERS:
        frame = read_source(locate(city, f"events/{partner}", ReadSpec()), ReadSpec())
        assert frame.height > 0
    school = pl.read_csv(city / "events" / "school.csv", separator=";", infer_schema=False)
    years = school["event_date"].str.slice(6, 4).unique().sort().to_list()
    assert years[0] == "2022" and years[-1] == "2025"


def test_truth_is_a_probability_the_pipeline_never_needs(city: Path) -> None:
    truth = pl.read_parquet(city / "truth" / "truth.parquet")
    values = truth.drop("person_id").to_numpy()
    assert np.nanmin(values) >= 0 and np.nanmax(values) <= 1
    assert truth["person_id"].n_unique() == SMALL_CITY.n_persons
    assert "truth" not in {p.name for p in (city / "events").iterdir()}


def test_persons_live_in_real_helsinki_postal_areas(city: Path) -> None:
    consents = pl.read_parquet(city / "consents/register.parquet")
    codes = set(consents["postal_code"].unique().to_list())
    assert codes <= {f"00{n:03d}" for n in range(100, 1000)}
    assert len(codes) > 50
