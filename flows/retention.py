"""Retention: delete what has been kept long enough, and say what was deleted.

Each derived store has its own period (``retention:`` in the configuration), counted from
when Ennakko wrote the file (a re-run of an old date is kept from the re-run). Returned
decisions are kept per row, by the date of the decision. The audit log, MLflow and
Prefect's own state are not touched here: the audit log is the record of processing, and
MLflow holds no personal data.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from flows.run import RunContext
from flows.workspace import Workspace

# store -> (folder, what one item is)
STORES = {
    "lists": ("lists/.versions", "dir"),
    "scores": ("scores", "file"),
    "features": ("features", "file"),
    "quarantine": ("quarantine", "dir"),
    "extracts": ("extracts", "any"),
    "snapshots": ("snapshots", "file"),
}


@dataclass
class RetentionReport:
    deleted: dict[str, list[str]] = field(default_factory=dict)
    review_rows_deleted: int = 0

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.deleted.values()) + self.review_rows_deleted


def _age_days(path: Path, now: datetime) -> float:
    return (now.timestamp() - path.stat().st_mtime) / 86400


def expired_items(ws: Workspace, days: dict[str, int], now: datetime) -> dict[str, list[Path]]:
    """Items of every store older than its retention period."""
    out: dict[str, list[Path]] = {}
    for store, (folder, kind) in STORES.items():
        root = ws.path(*folder.split("/"))
        items: list[Path] = []
        out[store] = items
        if not root.exists():
            continue
        for item in sorted(root.iterdir()):
            if kind == "dir" and not item.is_dir():
                continue
            if kind == "file" and not item.is_file():
                continue
            if _age_days(item, now) > days[store]:
                items.append(item)
    return out


def apply_retention(ws: Workspace, days: dict[str, int], now: datetime) -> RetentionReport:
    """Delete expired items; unlink published lists whose version is gone."""
    report = RetentionReport()
    for store, items in expired_items(ws, days, now).items():
        for item in items:
            if item.is_dir():
                shutil.rmtree(item)
            else:
                item.unlink()
        report.deleted[store] = [str(i.relative_to(ws.root)) for i in items]
    lists = ws.path("lists")
    if lists.exists():
        for link in lists.iterdir():
            if link.is_symlink() and not link.exists():
                link.unlink()
    cutoff = now.date() - timedelta(days=days["reviews"])
    for name, dated in (("decisions.parquet", "decided_at"), ("holdout.parquet", "as_of")):
        path = ws.path("reviews", name)
        if path.exists():
            frame = pl.read_parquet(path)
            keep = frame.filter(pl.col(dated) >= cutoff)
            report.review_rows_deleted += frame.height - keep.height
            if keep.height < frame.height:
                ws.write_parquet(path, keep)
    return report


def run_retention(ctx: RunContext, now: datetime) -> RetentionReport:
    days = ctx.settings.retention.model_dump()
    report = apply_retention(ctx.ws, days, now)
    ctx.audit.append(
        {
            "event": "retention",
            "run_id": ctx.run_id,
            "at": now.isoformat(timespec="seconds"),
            "retention_days": days,
            "deleted": {k: len(v) for k, v in report.deleted.items()},
            "review_rows_deleted": report.review_rows_deleted,
        }
    )
    return report


def touch(path: Path, when: date) -> None:
    """Set a file's modification time (tests and re-imports of old files)."""
    stamp = datetime(when.year, when.month, when.day).timestamp()
    os.utime(path, (stamp, stamp))
