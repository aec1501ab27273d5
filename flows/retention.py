"""Retention: delete what has been kept long enough, and say what was deleted.

Each derived store has its own period (``retention:`` in the configuration), counted from
when Ennakko wrote the file (a re-run of an old date is kept from the re-run). Returned
decisions are kept per row, by the date of the decision. The application log's rotated
files (``logs/ennakko.log.1`` …) go when older than ``retention.logs`` (default
:data:`LOG_DAYS`); the file being written stays. The audit log, MLflow and Prefect's own
state are not touched here: the audit log is the record of processing, and MLflow holds
no personal data.

Times come from the caller (the entry point reads :mod:`flows.clock`); a naive time is
taken as UTC, never as the machine's time zone.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from flows.logs import command_logger
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
    "logs": ("logs", "rotated"),
}
# Days rotated log files are kept when the configuration names no ``retention.logs``.
LOG_DAYS = 30
# A rotated file: ennakko.log.1, ennakko.log.2, … (never the file being written).
ROTATED = re.compile(r".+\.log\.\d+$")


@dataclass
class RetentionReport:
    deleted: dict[str, list[str]] = field(default_factory=dict)
    review_rows_deleted: int = 0
    kept_days: dict[str, int] = field(default_factory=dict)  # each store's period

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.deleted.values()) + self.review_rows_deleted


def _aware(now: datetime) -> datetime:
    """``now`` with its zone; a naive time is UTC (never the machine's zone)."""
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _age_days(path: Path, now: datetime) -> float:
    return (_aware(now).timestamp() - path.stat().st_mtime) / 86400


def _wanted(item: Path, kind: str) -> bool:
    if kind == "dir":
        return item.is_dir()
    if kind == "file":
        return item.is_file()
    if kind == "rotated":
        return item.is_file() and ROTATED.match(item.name) is not None
    return True


def periods(days: dict[str, int]) -> dict[str, int]:
    """Each store's period in days, the logs' default filled in."""
    return {"logs": LOG_DAYS, **days}


def expired_items(ws: Workspace, days: dict[str, int], now: datetime) -> dict[str, list[Path]]:
    """Items of every store older than its retention period."""
    days = periods(days)
    out: dict[str, list[Path]] = {}
    for store, (folder, kind) in STORES.items():
        root = ws.path(*folder.split("/"))
        items: list[Path] = []
        out[store] = items
        if not root.exists():
            continue
        for item in sorted(root.iterdir()):
            if _wanted(item, kind) and _age_days(item, now) > days[store]:
                items.append(item)
    return out


def apply_retention(ws: Workspace, days: dict[str, int], now: datetime) -> RetentionReport:
    """Delete expired items; unlink published lists whose version is gone."""
    report = RetentionReport(kept_days=periods(days))
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
    cutoff = _aware(now).date() - timedelta(days=days["reviews"])
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
    days = periods(ctx.settings.retention.model_dump())
    report = apply_retention(ctx.ws, days, now)
    command_logger().info(
        "retention deleted %d items (%s) and %d review rows",
        sum(len(v) for v in report.deleted.values()),
        ", ".join(f"{k} {len(v)}" for k, v in report.deleted.items()),
        report.review_rows_deleted,
    )
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


def touch(path: Path, when: date, timezone: str = "UTC") -> None:
    """Set a file's modification time to midnight of ``when`` in ``timezone`` (tests and
    re-imports of old files)."""
    stamp = datetime(when.year, when.month, when.day, tzinfo=ZoneInfo(timezone)).timestamp()
    os.utime(path, (stamp, stamp))
