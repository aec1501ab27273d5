"""Where the nightly run's area partitions execute: in this process, or on Dask.

``ennakko run --executor dask``, ``ennakko serve`` with ``executor.kind: dask`` and the
``ennakko-nightly-dask`` deployment of ``prefect.yaml`` all build their task runner here.
"""

from __future__ import annotations

import os
import tempfile

from prefect_dask import DaskTaskRunner

from flows.settings import ExecutorSpec


def dask_runner(executor: ExecutorSpec, address: str | None = None) -> DaskTaskRunner:
    """A DaskTaskRunner on an existing scheduler (``address``, else ``executor.address``),
    or on a local cluster of ``executor.n_workers`` workers that lives as long as the run."""
    os.environ.setdefault("DASK_TEMPORARY_DIRECTORY", tempfile.gettempdir())
    address = address or executor.address
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": executor.n_workers,
            "processes": executor.processes,
            "threads_per_worker": 1,
            "dashboard_address": None,
        }
    )
