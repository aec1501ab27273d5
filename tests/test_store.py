"""The embedded MLflow store: a damaged database is refused clearly; a moved workspace
writes its artifacts into its own folder, not the old one (issue 11)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.errors import SourceError
from flows.cli import app
from flows.store import check_embedded_store
from tests.test_privacy import copy_workspace

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prefect")]


def locations(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT artifact_location FROM experiments").fetchall()
        rows += con.execute("SELECT artifact_uri FROM runs").fetchall()
        rows += con.execute("SELECT storage_location FROM model_versions").fetchall()
    return [r[0] for r in rows if r[0] and "/mlflow/artifacts" in r[0]]


def test_a_half_written_store_is_refused_with_one_paragraph(tmp_path: Path) -> None:
    """A store cut off mid-write is no SQLite database: a clear error, no traceback."""
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)  # the header, then nothing
    with pytest.raises(SourceError, match="MLflow store is damaged"):
        check_embedded_store(db, tmp_path / "artifacts")
    db.write_bytes(b"\x00" * 4096)
    with pytest.raises(SourceError, match="not an SQLite database"):
        check_embedded_store(db, tmp_path / "artifacts")


def test_a_run_on_a_damaged_store_exits_2_and_publishes_nothing(published, tmp_path) -> None:
    workspace, config = copy_workspace(published, tmp_path)
    db = workspace / "mlflow" / "mlflow.db"
    db.write_bytes(db.read_bytes()[:8192])  # a disk that filled mid-write
    link = (workspace / "lists" / "2025-12-01").resolve()
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "MLflow store is damaged" in result.output
    assert (workspace / "lists" / "2025-12-01").resolve() == link


def test_a_moved_workspace_points_mlflow_at_its_own_folder(published, tmp_path) -> None:
    """A copied (moved) workspace's store still names the old folder; after the check every
    artifact location is inside the new workspace, and the champion still loads."""
    from flows.context import exclusive, start
    from flows.tracking import registry_for
    from models.registry import CHAMPION

    _, settings, _, _ = published
    workspace, config = copy_workspace(published, tmp_path)
    db = workspace / "mlflow" / "mlflow.db"
    assert all(str(settings.workspace) in loc for loc in locations(db)), "copied as it was"
    ctx = start(str(config), None, "train")
    with exclusive(ctx):
        model = registry_for(ctx).load(CHAMPION)
    moved = locations(db)
    assert moved and all(loc.startswith((workspace / "mlflow").as_uri()) for loc in moved)
    assert model is not None
