"""The command line people expect: --version, --json results, enum choices, the as-of boundary."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import yaml
from typer.testing import CliRunner

from flows.cli import app
from flows.commands import progress
from flows.commands.common import ExecutorKind, Scale

runner = CliRunner()


def test_version_names_the_installed_package() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ennakko {version('ennakko')}"


def test_choices_are_listed_in_help_and_match_the_city_scales() -> None:
    from synth import SCALES

    assert [s.value for s in Scale] == list(SCALES)
    assert {k.value for k in ExecutorKind} == {"local", "dask"}
    for command, shown in (("synth", "demo|helsinki|finland"), ("bench", "demo|helsinki|finland"),
                           ("run", "local|dask")):  # fmt: skip
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert shown in result.output
    refused = runner.invoke(app, ["synth", "--scale", "moon"])
    assert refused.exit_code == 2


def test_shell_completion_is_offered() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "--install-completion" in result.output and "--version" in result.output


def test_validate_json_is_one_parseable_object_with_every_source_and_its_age(config_for) -> None:
    result = runner.invoke(app, ["validate", "--config", str(config_for()), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["as_of"] == "2025-12-01" and report["ok"] is True
    sources = {s["source"]: s for s in report["sources"]}
    assert {"consents", "contacts", "outcomes", "services", "events/school"} <= set(sources)
    school = sources["events/school"]
    assert school["verdict"] in ("ok", "quarantine")
    assert school["max_age_days"] == 45 and 0 <= school["age_days"] <= 45
    assert school["stale"] is False
    assert sources["contacts"]["age_days"] is None  # undated


def test_validate_json_months_later_names_the_stale_sources_and_exits_1(config_for) -> None:
    result = runner.invoke(
        app, ["validate", "--config", str(config_for()), "--as-of", "2026-03-01", "--json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["stale"]["stops"] is True
    school = next(s for s in report["sources"] if s["source"] == "events/school")
    assert school["stale"] is True and school["age_days"] > school["max_age_days"]


def test_audit_verify_json_on_an_empty_workspace(config_for) -> None:
    result = runner.invoke(app, ["audit", "verify", "--config", str(config_for()), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["entries"] == 0 and report["broken_at"] is None


def _unprepared(config: Path) -> Path:
    workspace = Path(yaml.safe_load(config.read_text())["workspace"])
    assert not workspace.exists()
    return workspace


def test_a_future_as_of_is_refused_before_anything_is_written(config_for) -> None:
    """Exit 2 and one line naming the date, before the workspace is even created."""
    config = config_for()
    workspace = _unprepared(config)
    for command in ("run", "train", "validate", "folds", "features"):
        result = runner.invoke(app, [command, "--config", str(config), "--as-of", "2999-01-01"])
        assert result.exit_code == 2, (command, result.output)
        assert "2999-01-01" in result.output and "after today" in result.output
        assert "Traceback" not in result.output
        assert not workspace.exists(), command


def test_a_malformed_as_of_is_refused_before_anything_is_written(config_for) -> None:
    config = config_for()
    workspace = _unprepared(config)
    for command in ("run", "train", "features"):
        result = runner.invoke(app, [command, "--config", str(config), "--as-of", "1.3.2026"])
        assert result.exit_code == 2
        assert "YYYY-MM-DD" in result.output and "Traceback" not in result.output
        assert not workspace.exists(), command


def test_json_output_and_ci_never_get_a_progress_bar(monkeypatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not progress.wanted(as_json=True)
    monkeypatch.setenv("CI", "true")
    assert not progress.wanted()
    with progress.bar("nothing", enabled=False) as bar:
        bar.advance("a stage")  # a no-op, not an error
