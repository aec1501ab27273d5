"""Shared fixtures: a small synthetic city, configurations pointing at temporary workspaces,
and one Prefect test harness per test process."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from pathlib import Path

import pytest
import yaml

from features.synth import CitySpec, generate_city

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data" / "indicators"
SMALL_CITY = CitySpec(n_persons=1500, seed=11, finnish_csv=("events/school",))


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,500-person synthetic city, generated once per test process."""
    out = tmp_path_factory.mktemp("city") / "city"
    generate_city(SMALL_CITY, out)
    return out


def write_config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump({"extends": str(ROOT / "configs" / "default.yaml"), **data}))
    return path


@pytest.fixture
def config_for(tmp_path: Path, city: Path):
    """Make a test configuration on the small city in a fresh workspace."""

    def make(**overrides) -> Path:
        data = {
            "workspace": str(tmp_path / "workspace"),
            "data_dir": str(city),
            "truth_path": str(city / "truth" / "truth.parquet"),
            "as_of": "2025-12-01",
            "partners": {"school": {"format": "csv"}},
            "model": {"challenger": {"max_iter": 60}},
            "outreach": {"capacity": {"default": 10}},
        }
        for key, value in overrides.items():
            data[key] = value
        return write_config(tmp_path / "ennakko.yaml", data)

    return make


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for the whole test process."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
