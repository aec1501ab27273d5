"""The daily retention deployment: :func:`flows.retention.run_retention` as a Prefect flow.

Apart from ``flows.retention`` so that ``ennakko retention`` runs without importing Prefect.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.context import exclusive, now_in, start
from flows.retention import run_retention


@flow(name="ennakko-retention", log_prints=False)
def retention(config: str) -> dict:
    """Daily: delete what each store has kept long enough."""
    ctx = start(config, None, "retention")
    with exclusive(ctx):
        report = run_retention(ctx, now_in(ctx.settings))
    get_run_logger().info(f"retention deleted {report.total} items: " + ", ".join(
        f"{k} {len(v)}" for k, v in report.deleted.items()))  # fmt: skip
    return {"deleted": report.deleted, "review_rows_deleted": report.review_rows_deleted}
