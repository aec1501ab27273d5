"""Entry point of the ``ennakko-nightly-dask`` deployment (``prefect.yaml``).

The nightly flow with its area partitions on the Dask scheduler named by the environment
variable ``ENNAKKO_DASK_ADDRESS`` (``tcp://host:8786``) on the worker, or on a local
cluster when it is unset. A deployment's task runner is fixed when the worker imports the
flow, so the address comes from the worker's environment, not from the configuration.
"""

from __future__ import annotations

import os

from flows.executors import dask_runner
from flows.nightly import nightly
from flows.settings import ExecutorSpec

nightly_dask = nightly.with_options(
    task_runner=dask_runner(ExecutorSpec(kind="dask"), os.environ.get("ENNAKKO_DASK_ADDRESS"))
)
