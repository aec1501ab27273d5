"""The workspace: where every derived store lives, created owner-only.

Layout (all under ``settings.workspace``)::

    lists/<D>            -> lists/.versions/<D>--<run>/   (symlink swapped atomically)
    scores/<D>.parquet   every cohort person's risk on D (for tomorrow's flags)
    features/<key>.parquet  cached feature matrices
    quarantine/<D>/<source>.parquet  refused rows with reasons
    snapshots/<run>.parquet  who a model was trained on (for erasure)
    reviews/decisions.parquet  counsellors' returned decisions
    audit/audit.jsonl    hash-chained record of every run
    privacy/erasures.jsonl  keyed hashes of erased persons (never in clear)
    mlflow/, prefect/    tracking store and Prefect state (embedded default)
    reports/             privacy report, benchmark results
    logs/ennakko.log     flow and task logs (no personal data)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.audit import LOG_DIR

STORES = (
    "lists",
    "scores",
    "features",
    "quarantine",
    "snapshots",
    "reviews",
    LOG_DIR,
    "privacy",
    "reports",
    "logs",
)


@dataclass(frozen=True)
class Workspace:
    """Paths and owner-only file operations of one workspace."""

    root: Path
    dir_mode: int = 0o700
    file_mode: int = 0o600

    @classmethod
    def from_modes(cls, root: Path, dir_mode: str, file_mode: str) -> Workspace:
        return cls(root, int(dir_mode, 8), int(file_mode, 8))

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def ensure(self) -> Workspace:
        """Create the workspace and its stores owner-only (idempotent)."""
        self.mkdir(self.root)
        for store in STORES:
            self.mkdir(self.root / store)
        return self

    def probe_writable(self) -> None:
        """Create and remove a file: raises OSError on a read-only or full workspace."""
        fd, name = tempfile.mkstemp(prefix=".probe-", dir=self.root)
        os.close(fd)
        os.unlink(name)

    def mkdir(self, path: Path) -> Path:
        missing = []
        probe = path
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        for directory in reversed(missing):
            directory.mkdir(mode=self.dir_mode, exist_ok=True)
            os.chmod(directory, self.dir_mode)
        return path

    @contextlib.contextmanager
    def atomic(self, target: Path) -> Iterator[Path]:
        """Yield a temporary path beside ``target``; rename it into place on success."""
        self.mkdir(target.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            yield tmp_path
            os.chmod(tmp_path, self.file_mode)
            os.replace(tmp_path, target)
        finally:
            tmp_path.unlink(missing_ok=True)

    def write_bytes(self, target: Path, data: bytes) -> Path:
        with self.atomic(target) as tmp:
            tmp.write_bytes(data)
        return target

    def write_text(self, target: Path, text: str) -> Path:
        return self.write_bytes(target, text.encode("utf-8"))

    def write_parquet(self, target: Path, frame: pl.DataFrame) -> Path:
        with self.atomic(target) as tmp:
            frame.write_parquet(tmp, statistics=False)
        return target

    def stage_parquet(self, target: Path, frame: pl.DataFrame, tag: str) -> tuple[Path, Path]:
        """Write ``frame`` beside ``target`` under a hidden name (no reader globs it);
        :meth:`commit_staged` renames it into place, :meth:`discard_staged` drops it."""
        self.mkdir(target.parent)
        staged = target.with_name(f".{target.name}.{tag}.staged")
        frame.write_parquet(staged, statistics=False)
        os.chmod(staged, self.file_mode)
        return staged, target

    @staticmethod
    def commit_staged(pairs: list[tuple[Path, Path]]) -> None:
        for staged, target in pairs:
            os.replace(staged, target)

    @staticmethod
    def discard_staged(pairs: list[tuple[Path, Path]]) -> None:
        for staged, _ in pairs:
            staged.unlink(missing_ok=True)

    def secure_tree(self, path: Path) -> None:
        """Apply owner-only modes to a folder tree some library wrote (MLflow, Prefect)."""
        if not path.exists():
            return
        for dirpath, dirnames, filenames in os.walk(path):
            os.chmod(dirpath, self.dir_mode)
            for name in filenames:
                file = Path(dirpath) / name
                if not file.is_symlink():
                    os.chmod(file, self.file_mode)
            for name in dirnames:
                os.chmod(Path(dirpath) / name, self.dir_mode)


def discard_leftovers(ws: Workspace) -> list[str]:
    """Remove what a killed command left half-made: list versions never published (no
    manifest, no link to them), staged score files, half-rebuilt team lists. They can hold
    personal data, and nobody would ever read or erase them."""
    removed: list[str] = []
    lists = ws.path("lists")
    versions = lists / ".versions"
    if versions.exists():
        linked = {p.resolve() for p in lists.iterdir() if p.is_symlink()}
        for folder in versions.iterdir():
            orphan = folder.is_dir() and not (folder / "manifest.json").exists()
            if orphan and folder.resolve() not in linked:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder.relative_to(ws.root)))
        for folder in versions.glob("*/.rebuild-*"):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder.relative_to(ws.root)))
    for store in ("scores", "reviews"):
        for path in ws.path(store).glob(".*.staged"):
            path.unlink(missing_ok=True)
            removed.append(str(path.relative_to(ws.root)))
    return removed


def sha256_file(path: Path) -> str:
    """SHA-256 of one file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_path(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (names and contents, sorted)."""
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(sha256_file(file).encode())
    return digest.hexdigest()
