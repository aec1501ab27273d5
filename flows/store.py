"""The embedded MLflow store (SQLite inside the workspace): checked and kept in place.

Two faults an operator meets with the embedded default, both caught before a run does any
work: a damaged ``mlflow.db`` (a disk that filled while MLflow wrote it) would end in a
database traceback deep inside MLflow; and a workspace moved to a new folder would go on
writing artifacts into the old one, because MLflow stores absolute artifact locations.
The first is refused with one clear paragraph; the second is mended by rewriting the
locations under the workspace's new folder (the artifacts moved with it).

Only for the embedded store: a tracking server (``mlflow.tracking_uri``) is the server's
to look after. Standard library only: checking costs milliseconds, not an MLflow import.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from features.errors import SourceError

SQLITE_HEADER = b"SQLite format 3\x00"
MARK = "/mlflow/artifacts"
# Columns where MLflow keeps absolute artifact locations.
LOCATIONS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
    ("model_versions", "source"),
)


def damaged(db: Path, why: str) -> SourceError:
    return SourceError(
        str(db),
        f"the MLflow store is damaged ({why}); nothing was done.",
        hint="Restore mlflow.db from the last backup. Without one, move it aside: a new store "
        "starts empty and the next `ennakko run` trains a new champion first.",
    )


def check_embedded_store(db: Path, artifacts: Path) -> list[str]:
    """Refuse a damaged store; re-point artifact locations after a move.

    Returns the old artifact roots that were re-pointed to ``artifacts`` (empty when
    nothing moved or there is no store yet).
    """
    if not db.exists():
        return []
    with db.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise damaged(db, "not an SQLite database: half-written or overwritten")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=rw", uri=True)) as con:
            verdict = con.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise damaged(db, f"SQLite reports: {verdict}")
            return _relocate(con, artifacts.resolve().as_uri())
    except sqlite3.DatabaseError as exc:
        raise damaged(db, str(exc)) from None


def _relocate(con: sqlite3.Connection, new_root: str) -> list[str]:
    tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "experiments" not in tables:
        return []
    olds = set()
    for (location,) in con.execute("SELECT artifact_location FROM experiments"):
        if location and location.startswith("file://") and MARK in location:
            olds.add(location[: location.index(MARK) + len(MARK)])
    olds.discard(new_root)
    for old in sorted(olds):
        for table, column in LOCATIONS:
            if table not in tables:
                continue
            con.execute(
                f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                f"WHERE substr({column}, 1, ?) = ?",
                (new_root, len(old) + 1, len(old), old),
            )
    con.commit()
    return sorted(olds)


def tag_versions_in_store(db: Path, model: str, versions: list[str], tags: dict[str, str]) -> bool:
    """Set tags on registered model versions straight in the embedded store.

    ``ennakko erase`` must answer in a second or two, and importing MLflow alone takes
    four here; the tag table is one row per (model, version, key). Returns False (nothing
    written) when the table is not the one this was written for, so the caller falls
    back to MLflow's client.
    """
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=rw", uri=True)) as con:
        columns = {row[1] for row in con.execute("PRAGMA table_info(model_version_tags)")}
        if columns != {"key", "value", "name", "version", "workspace"}:
            return False
        known = {
            str(v)
            for (v,) in con.execute("SELECT version FROM model_versions WHERE name = ?", (model,))
        }
        if not set(versions) <= known:
            return False
        con.executemany(
            "INSERT OR REPLACE INTO model_version_tags (key, value, name, version, workspace) "
            "SELECT ?, ?, name, version, workspace FROM model_versions "
            "WHERE name = ? AND version = ?",
            [(k, v, model, int(version)) for version in versions for k, v in tags.items()],
        )
        con.commit()
    return True
