"""The stores of counsellors' decisions and hold-out draws, read by the lists stage and by
``reviews import`` / ``reviews report`` (kept light: no model or feature machinery)."""

from __future__ import annotations

import polars as pl

from flows.run import RunContext
from outreach.decisions import STORE_SCHEMA

REVIEWS = ("reviews", "decisions.parquet")
# Hold-out draws (outreach.holdout_share): beside the decisions, under the same retention
# and erasure, since both hold pseudonyms and feed the same comparison.
HOLDOUT = ("reviews", "holdout.parquet")
# The store's columns the lists use: an empty store is these, typed as the store has them.
_USED = ("list_id", "person_id", "decision", "decided_at")


def load_reviews(ctx: RunContext) -> pl.DataFrame:
    path = ctx.ws.path(*REVIEWS)
    if not path.exists():
        return pl.DataFrame(schema={c: STORE_SCHEMA[c] for c in _USED})
    stored = pl.read_parquet(path)
    # A decision replaced by a correction (superseded_at set) no longer shapes the lists.
    if "superseded_at" in stored.columns:
        stored = stored.filter(pl.col("superseded_at").is_null())
    return stored


def load_holdout(ctx: RunContext) -> pl.DataFrame | None:
    path = ctx.ws.path(*HOLDOUT)
    return pl.read_parquet(path) if path.exists() else None
