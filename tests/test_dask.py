"""Past one machine: the nightly run on Dask gives the same lists, byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from flows.partitions import assign
from tests.conftest import AS_OF
from tests.test_privacy import copy_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]


def test_partitions_are_whole_areas_and_cover_everyone() -> None:
    cohort = pl.DataFrame({
        "person_id": [f"p{i}" for i in range(100)],
        "postal_code": [f"00{100 + (i % 7) * 10}" for i in range(100)],
    })  # fmt: skip
    parts = assign(cohort, 3)
    assert 1 < len(parts) <= 3
    assert sorted(pl.concat(parts)["person_id"]) == sorted(cohort["person_id"])
    areas = [set(p["postal_code"]) for p in parts]
    assert all(a.isdisjoint(b) for i, a in enumerate(areas) for b in areas[i + 1 :])


def _digests(workspace: Path) -> dict[str, str]:
    folder = workspace / "lists" / AS_OF
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.suffix in (".csv", ".parquet")
    }


def test_dask_run_publishes_byte_identical_lists(published, tmp_path: Path, monkeypatch) -> None:
    from prefect_dask import DaskTaskRunner

    from flows.nightly import nightly

    workspace, config = copy_workspace(
        published, tmp_path, executor={"kind": "dask", "partitions": 4}
    )
    single = _digests(workspace)
    scores_before = pl.read_parquet(workspace / "scores" / f"{AS_OF}.parquet")
    runner = DaskTaskRunner(
        cluster_kwargs={
            "n_workers": 2,
            "processes": False,
            "threads_per_worker": 1,
            "dashboard_address": None,
        }
    )
    monkeypatch.chdir(tmp_path)
    summary = nightly.with_options(task_runner=runner)(config=str(config), executor="dask")
    assert summary["listed"] > 0
    assert _digests(workspace) == single
    assert pl.read_parquet(workspace / "scores" / f"{AS_OF}.parquet").equals(scores_before)
