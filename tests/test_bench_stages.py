"""The bench times the nightly job's own stages: its stage names are the flow's task names.

The nightly flow runs ``night(ctx, as_task)``; the bench runs ``night(ctx, Timed(...))``.
Both are run here for real on copies of the published workspace (a Prefect flow run read
back through Prefect's API, and the bench's timing step), and their stage lists compared.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import write_config

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]

NEXT_DAY = "2025-12-02"


def _copy(published, tmp_path: Path, name: str) -> Path:
    _, settings, _, config = published
    folder = tmp_path / name
    shutil.copytree(settings.workspace, folder / "workspace", symlinks=True)
    data = yaml.safe_load(Path(config).read_text())
    data["workspace"] = str(folder / "workspace")
    return write_config(folder / "ennakko.yaml", data)


def _flow_task_names(flow_run_id) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
    # A task run is named "<task name>-<three characters>".
    return [run.name.rsplit("-", 1)[0] for run in runs]


def test_the_bench_times_exactly_the_nightly_flows_tasks(published, tmp_path: Path) -> None:
    from flows.bench import NIGHTLY, BenchResult, Timed
    from flows.context import exclusive, start
    from flows.nightly import night, nightly

    state = nightly(config=str(_copy(published, tmp_path, "flow")), as_of=NEXT_DAY,
                    return_state=True)  # fmt: skip
    assert state.is_completed(), state
    flow_tasks = _flow_task_names(state.state_details.flow_run_id)

    result = BenchResult(scale="test", persons=0, events=0)
    ctx = start(str(_copy(published, tmp_path, "bench")), NEXT_DAY, "bench")
    with exclusive(ctx):
        summary = night(ctx, Timed(result, report=lambda _: None))
    bench_stages = [stage.name for stage in result.stages]

    assert bench_stages == flow_tasks
    assert tuple(bench_stages) == NIGHTLY  # the bench's nightly total covers every task
    assert summary["listed"] > 0 and all(s.seconds >= 0 for s in result.stages)
    assert all(s.peak_rss_mb >= s.start_rss_mb * 0.5 > 0 for s in result.stages)
