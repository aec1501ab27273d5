"""What the test suite needs outside .venv, and that it says so instead of failing obscurely.

The finding: on a machine without Chromium and LibreOffice `make test` failed two tests
after three and a half minutes, though the README said python3 and make suffice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_program


def test_a_missing_program_skips_with_one_line_naming_it(monkeypatch, tmp_path: Path) -> None:
    """Outside CI, a missing program skips the test with one line: the program and how to
    install it."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_program("chromium", "chromium-browser", install="apt-get install chromium")
    assert str(skipped.value) == "chromium is not installed (apt-get install chromium)"


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_in_ci_a_missing_program_fails_the_test(monkeypatch, tmp_path: Path, value: str) -> None:
    """With CI set, the same missing program fails the test: CI runs everything."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception) as failed:
        require_program("soffice", "libreoffice", install="apt-get install libreoffice-calc-nogui")
    assert "soffice is not installed" in str(failed.value)
    assert "CI must run every test" in str(failed.value)


def test_ci_set_to_false_is_not_ci(monkeypatch, tmp_path: Path) -> None:
    """CI=false (some services export it) still skips."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_program("chromium", install="apt-get install chromium")


def test_an_installed_program_is_found_by_any_of_its_names(monkeypatch, tmp_path: Path) -> None:
    """The first name found on PATH is returned, so the test drives that binary."""
    program = tmp_path / "libreoffice"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert require_program("soffice", "libreoffice", install="x") == str(program)


def _run_rendering_tests(ci: str | None) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    if ci is not None:
        env["CI"] = ci
    env["PATH"] = str(Path(sys.executable).parent)  # no chromium, no soffice
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_rendering.py", "-q", "-rsE",
         "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return result, time.perf_counter() - started


def rendering_tests() -> int:
    """How many tests tests/test_rendering.py holds (each needs Chromium or LibreOffice)."""
    text = (ROOT / "tests" / "test_rendering.py").read_text(encoding="utf-8")
    return sum(1 for line in text.splitlines() if line.startswith("def test_"))


def test_without_chromium_and_libreoffice_the_rendering_tests_skip_at_once() -> None:
    """Every rendering test skips, naming its program, before any nightly run is built
    (seconds, not minutes), and the session passes."""
    result, elapsed = _run_rendering_tests(ci=None)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{rendering_tests()} skipped" in output
    assert "chromium is not installed" in output and "soffice is not installed" in output
    assert elapsed < 60, f"took {elapsed:.0f} s: the skip came after the nightly run"


def test_in_ci_without_chromium_and_libreoffice_the_rendering_tests_fail() -> None:
    """Under CI=true the same session fails, naming both programs: CI never skips them."""
    result, _ = _run_rendering_tests(ci="true")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "chromium is not installed" in output and "soffice is not installed" in output
    assert f"{rendering_tests()} errors" in output and "skipped" not in output
