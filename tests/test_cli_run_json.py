"""``ennakko run --json``: the published summary alone on stdout, the log naming each task."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.test_privacy import copy_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]


def test_run_json_prints_the_summary_alone_and_the_log_names_every_task(
    published, tmp_path: Path
) -> None:
    workspace, config = copy_workspace(published, tmp_path)
    log = workspace / "logs" / "ennakko.log"
    before = len(log.read_text().splitlines()) if log.exists() else 0
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert summary["as_of"] == "2025-12-01" and summary["listed"] == sum(summary["teams"].values())
    assert Path(summary["lists"]).parent == workspace / "lists"
    lines = log.read_text().splitlines()[before:]
    assert lines and all(" flow=ennakko-nightly/" in line for line in lines)
    finished = [line for line in lines if line.endswith("Finished in state Completed()")]
    tasks = {re.search(r" task=(.+?)(?:-[0-9a-f]+)?: ", line).group(1) for line in finished}
    assert len(tasks) >= 4 and "-" in tasks  # every stage by name, and the flow's own end
