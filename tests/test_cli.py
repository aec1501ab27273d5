"""The command line as an operator and an analyst use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import ROOT, SHARED_DATA

runner = CliRunner()


HEAVY = ("sklearn", "prefect", "mlflow", "polars", "pandas", "pandera", "matplotlib", "django")


def test_help_lists_the_commands_without_importing_anything_heavy() -> None:
    """`ennakko --help` must answer at once: it loads none of the libraries that take
    seconds to import (how fast it answers is measured by `ennakko bench --commands`,
    not by a timed test)."""
    probe = (
        "import sys\n"
        "from typer.main import get_command\n"
        "from flows.cli import app\n"
        "try:\n"
        "    get_command(app)(['--help'], prog_name='ennakko')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=False, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for command in ("synth", "run", "train", "validate", "erase", "retention", "bench", "serve"):
        assert command in result.stdout
    assert "LOADED []" in result.stdout


def test_folds_are_printed_as_a_table(config_for) -> None:
    result = runner.invoke(app, ["folds", "--config", str(config_for())])
    assert result.exit_code == 0, result.output
    assert "2025-06-01" in result.output and "final" in result.output


def test_features_are_written_with_sensitive_columns_aside(config_for, tmp_path: Path) -> None:
    out = tmp_path / "features.parquet"
    result = runner.invoke(app, ["features", "--config", str(config_for()), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    aside = pl.read_parquet(tmp_path / "features.aside.parquet")
    assert frame.height == aside.height > 0
    assert "gender" not in frame.columns and "gender" in aside.columns
    assert frame.select("person_id", "as_of").equals(aside.select("person_id", "as_of"))
    again = runner.invoke(app, ["features", "--config", str(config_for()), "--out", str(out)])
    assert again.exit_code == 0
    assert pl.read_parquet(out).equals(frame)


def test_indicators_convert_writes_the_long_form(tmp_path: Path) -> None:
    out = tmp_path / "long.parquet"
    files = [
        SHARED_DATA / "paavo" / "009_12f7_2023_all.csv",
        SHARED_DATA / "statfin" / "13aj_unemployment_rate_by_age_2009_2025.csv",
    ]
    result = runner.invoke(app, ["indicators", "convert", *map(str, files), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    assert frame.columns == ["area_code", "area_level", "period", "indicator", "value"]
    youth = frame.filter(
        (pl.col("area_code") == "SSS") & (pl.col("indicator") == "unemployment_rate_15_24")
    )
    assert youth.filter(pl.col("period") == "2025")["value"].item() == 21.8


def test_serve_refuses_the_ephemeral_api_with_a_clear_message(config_for, monkeypatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = runner.invoke(app, ["serve", "--config", str(config_for())])
    assert result.exit_code == 2
    assert "needs a Prefect server" in result.output and "Traceback" not in result.output


def test_deployments_carry_the_documented_schedules(tmp_path: Path) -> None:
    from flows.deployments import deployments

    built = {d.name: d for d in deployments(str(tmp_path / "config.yaml"))}
    assert set(built) == {"ennakko-nightly", "ennakko-train-monthly", "ennakko-retention-daily"}
    nightly = built["ennakko-nightly"].schedules[0].schedule
    assert nightly.cron == "0 2 * * *" and nightly.timezone == "Europe/Helsinki"
    assert built["ennakko-train-monthly"].schedules[0].schedule.cron == "0 1 1 * *"
    assert all(d.parameters == {"config": str(tmp_path / "config.yaml")} for d in built.values())
    prefect_yaml = (ROOT / "prefect.yaml").read_text()
    for name, cron in (("ennakko-nightly", "0 2 * * *"), ("ennakko-train-monthly", "0 1 1 * *"),
                       ("ennakko-retention-daily", "0 4 * * *")):  # fmt: skip
        assert name in prefect_yaml and f'cron: "{cron}"' in prefect_yaml


def test_the_dask_deployment_runs_partitions_on_the_scheduler_the_worker_names(
    monkeypatch,
) -> None:
    import importlib

    import yaml
    from prefect_dask import DaskTaskRunner

    monkeypatch.setenv("ENNAKKO_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    import flows.nightly_dask as module

    flow = importlib.reload(module).nightly_dask
    assert isinstance(flow.task_runner, DaskTaskRunner)
    assert flow.task_runner.address == "tcp://10.0.0.5:8786"
    assert flow.name == "ennakko-nightly"
    spec = {
        d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    }
    dask = spec["ennakko-nightly-dask"]
    assert dask["entrypoint"] == "flows/nightly_dask.py:nightly_dask"
    assert dask["parameters"]["executor"] == "dask"
    # Never two nightly runs: the Dask variant's schedule starts inactive.
    assert dask["schedules"][0]["active"] is False


def test_a_bad_date_is_one_clear_line(config_for) -> None:
    result = runner.invoke(app, ["run", "--config", str(config_for()), "--as-of", "31.12.2025"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output and "Traceback" not in result.output


def modules_loaded_by(*args: str) -> set[str]:
    """Top-level modules a fresh interpreter has loaded after running ``ennakko ARGS``."""
    code = (
        "import json, sys\n"
        "from flows.cli import app\n"
        "try:\n"
        "    app(json.loads(sys.argv[1]), standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    import json

    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(list(args))],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_validate_starts_neither_prefect_nor_mlflow(config_for) -> None:
    """`ennakko validate` reads and checks sources only: Prefect and MLflow stay unloaded."""
    loaded = modules_loaded_by("validate", "--config", str(config_for()))
    assert "features" in loaded
    assert not loaded & {"prefect", "mlflow", "sklearn"}


def test_privacy_report_starts_neither_prefect_nor_mlflow(config_for, tmp_path: Path) -> None:
    """`ennakko privacy report` writes its record without loading Prefect or MLflow."""
    out = tmp_path / "record.md"
    loaded = modules_loaded_by(
        "privacy", "report", "--config", str(config_for()), "--out", str(out)
    )
    assert out.exists()
    assert not loaded & {"prefect", "mlflow", "sklearn"}
