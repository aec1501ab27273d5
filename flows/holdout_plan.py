"""The hold-out's pre-registered analysis plan: its hash in the audit log, and the check.

The plan (``docs/holdout-analysis-plan.md``) must be fixed before any outcome of a draw
exists. The first night that draws a hold-out appends the plan's SHA-256 to the audit log
(event ``holdout.plan``), once; the reviews report compares the file as it is now with
that hash and calls its estimate pre-registered only when they agree.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.run import RunContext
from flows.workspace import sha256_file
from outreach.effect import Plan

EVENT = "holdout.plan"
NAME = "holdout-analysis-plan.md"
# Beside the code in a checkout; under the working directory in the image
# (/srv/ennakko/docs, where the deployments run).
CANDIDATES = (Path(__file__).resolve().parents[1] / "docs" / NAME, Path("docs") / NAME)


def plan_file() -> Path | None:
    """The plan file, where it is found."""
    return next((p for p in CANDIDATES if p.is_file()), None)


def plan_sha256() -> str | None:
    """The plan file's SHA-256 now (None when the file is not found)."""
    path = plan_file()
    return sha256_file(path) if path is not None else None


def recorded_sha256(ctx: RunContext) -> str | None:
    """The hash the first ``holdout.plan`` entry recorded (None: none yet)."""
    return next((e.get("sha256") for e in ctx.audit.read() if e.get("event") == EVENT), None)


def record_plan(ctx: RunContext, draws: pl.DataFrame | None) -> dict | None:
    """On a night with hold-out draws, append the plan's hash unless one is recorded.

    Returns the entry written, or None (no draws, already recorded, or no plan file: the
    report then says the estimate is not pre-registered).
    """
    if draws is None or draws.is_empty() or recorded_sha256(ctx) is not None:
        return None
    digest = plan_sha256()
    if digest is None:
        return None
    return ctx.audit.append(
        {
            "event": EVENT,
            "run_id": ctx.run_id,
            "as_of": ctx.as_of.isoformat(),
            "at": ctx.notes.get("started_at"),
            "plan": f"docs/{NAME}",
            "sha256": digest,
        }
    )


def plan_state(ctx: RunContext) -> Plan:
    """The recorded and current hashes, for the report."""
    return Plan(recorded=recorded_sha256(ctx), current=plan_sha256())
