"""Shared fixtures: a small synthetic city, configurations pointing at temporary workspaces,
and one Prefect test harness per test process."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Lets scikit-learn run its array-API check (dispatch on with NumPy input) instead of
# skipping it; it must be set before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import settings as hypothesis_settings

from synth import CitySpec, generate_city

# No per-example deadline: how fast code runs is measured by `ennakko bench`, and a busy
# machine must not turn a property test into a timing test.
hypothesis_settings.register_profile("ennakko", deadline=None)
hypothesis_settings.load_profile("ennakko")

ROOT = Path(__file__).resolve().parents[1]


def find_shared_indicators() -> Path:
    """The real indicator files of ../shared/data: beside this checkout, or where the
    machine keeps them, or where ENNAKKO_SHARED_DATA points. Tests that read them fail,
    never skip, when none is found: they are the readers' ground truth."""
    candidates = [
        os.environ.get("ENNAKKO_SHARED_DATA", ""),
        str(ROOT.parent / "shared" / "data"),
        "/work/shared/data",
    ]
    for candidate in filter(None, candidates):
        folder = Path(candidate) / "indicators"
        if folder.is_dir():
            return folder
    return Path(candidates[1]) / "indicators"


SHARED_DATA = find_shared_indicators()
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
            "model": {"challenger": {"max_iter": 60}, "promotion": {"max_calibration_error": 0.1}},
            "outreach": {"capacity": {"default": 10}},
        }
        for key, value in overrides.items():
            data[key] = value
        return write_config(tmp_path / "ennakko.yaml", data)

    return make


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for the whole test process."""
    from prefect.logging.configuration import ensure_logging_setup
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        # Configure Prefect's logging now, on the real stderr: configured lazily inside a
        # CliRunner call, it would keep writing to that call's closed stream afterwards.
        ensure_logging_setup()
        yield


AS_OF = "2025-12-01"


@pytest.fixture(scope="session")
def published(prefect_harness, city: Path, tmp_path_factory: pytest.TempPathFactory):
    """One real nightly run on the small city (training included), shared by the e2e and
    privacy tests of a test process. Tests that change the workspace copy it first."""
    from flows.nightly import nightly
    from flows.settings import load_settings

    folder = tmp_path_factory.mktemp("published")
    config = write_config(
        folder / "ennakko.yaml",
        {
            "workspace": str(folder / "workspace"),
            "data_dir": str(city),
            "truth_path": str(city / "truth" / "truth.parquet"),
            "as_of": AS_OF,
            "partners": {"school": {"format": "csv"}},
            "model": {"challenger": {"max_iter": 60}, "promotion": {"max_calibration_error": 0.1}},
            "outreach": {"capacity": {"default": 10, "per_team": {"itainen": 15}}},
        },
    )
    summary = nightly(config=str(config))
    return summary, load_settings(config, env={}), city, config


def in_ci() -> bool:
    """Whether the suite runs in CI (``CI`` set, as .ci/run and CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> BaseException:
    """What to raise when a test cannot run here: a skip with ``reason`` as its one line,
    or, in CI, where every test must run, a failure with the same line.

    ``raise unavailable("PostgreSQL does not answer at 127.0.0.1:5432")``
    """
    if in_ci():
        return pytest.fail.Exception(f"{reason}; CI must run every test", pytrace=False)
    return pytest.skip.Exception(reason)


def require_program(*names: str, install: str) -> str:
    """The path of the first of ``names`` on PATH, or skip (in CI: fail) naming the program."""
    import shutil

    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise unavailable(f"{names[0]} is not installed ({install})")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Headless Chromium for the rendering test. Session-scoped, so a test that lists it
    before ``published`` skips before the nightly run is built."""
    return require_program("chromium", "chromium-browser", install="apt-get install chromium")


@pytest.fixture(scope="session")
def soffice() -> str:
    """LibreOffice for the workbook test (session-scoped for the same reason)."""
    return require_program(
        "soffice", "libreoffice", install="apt-get install libreoffice-calc-nogui"
    )


@contextmanager
def page_at(chromium: str, path: Path, width: int = 1000, height: int = 800) -> Iterator:
    """A local page opened in headless Chromium, and the list its console errors, page
    errors and failed requests are collected into (to assert empty after the block)."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        view = browser.new_page(viewport={"width": width, "height": height})
        view.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        view.on("pageerror", lambda e: errors.append(str(e)))
        view.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        view.goto(path.as_uri())
        view.wait_for_load_state("load")
        try:
            yield view, errors
        finally:
            browser.close()
