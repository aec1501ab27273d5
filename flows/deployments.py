"""The three schedules of a single-machine installation, for ``ennakko serve``.

Nightly scoring at 02:00, monthly training on the 1st at 01:00 (before that night's
scoring) and retention daily at 04:00, all in Europe/Helsinki. ``prefect.yaml`` defines
the same deployments for a Prefect server with a process work pool.
"""

from __future__ import annotations

from prefect.schedules import Cron

from flows.nightly import nightly
from flows.retention_flow import retention
from flows.settings import ExecutorSpec
from flows.training import train

TIMEZONE = "Europe/Helsinki"
SCHEDULES = {
    "ennakko-nightly": "0 2 * * *",
    "ennakko-train-monthly": "0 1 1 * *",
    "ennakko-retention-daily": "0 4 * * *",
}


def deployments(config: str, executor: ExecutorSpec | None = None):
    """The deployments, each with the absolute configuration path as its parameter. With
    ``executor.kind == "dask"`` the nightly flow runs its area partitions on Dask."""
    scoring = nightly
    if executor is not None and executor.kind == "dask":
        from flows.executors import dask_runner

        scoring = nightly.with_options(task_runner=dask_runner(executor))
    table = (
        (scoring, "ennakko-nightly", "Score everyone in scope and publish each team's list.",
         ["ennakko", "nightly"]),
        (train, "ennakko-train-monthly", "Train and evaluate a model; promote it if the gate allows.",
         ["ennakko", "training"]),
        (retention, "ennakko-retention-daily", "Delete what each store has kept long enough.",
         ["ennakko", "privacy"]),
    )  # fmt: skip
    return [
        flow.to_deployment(
            name=name,
            schedules=[Cron(SCHEDULES[name], timezone=TIMEZONE)],
            parameters={"config": config},
            description=description,
            tags=tags,
        )
        for flow, name, description, tags in table
    ]
