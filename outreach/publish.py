"""Publish a day's lists atomically: a reader sees the complete new lists or the previous ones.

The files are written into a fresh version folder ``lists/.versions/<D>--<run>/`` and
fsynced (:func:`stage`); the nightly run then logs to MLflow and the audit log, and only
then writes the manifest and replaces the symlink ``lists/<D>`` in one ``rename(2)``
(:func:`commit`). A crash at any point before the rename leaves ``lists/<D>`` pointing at the
previous version, untouched. Older superseded versions are removed, the one just
replaced is kept for readers that still have it open (retention removes it later).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERSIONS = ".versions"


def version_dir(lists_root: Path, as_of: str, run_id: str) -> Path:
    return lists_root / VERSIONS / f"{as_of}--{run_id}"


def list_stem(as_of: str, team: str) -> str:
    """A team list's file name without its suffix: ``2026-12-02-keskinen``."""
    return f"{as_of}-{team}"


def team_lists(folder: Path, as_of: str) -> list[Path]:
    """The team Parquet files of one published version (named by ``list_stem``)."""
    return sorted(folder.glob(f"{list_stem(as_of, '')}*.parquet"))


def current(lists_root: Path, as_of: str) -> Path | None:
    """The version folder ``lists/<as_of>`` points at, if published."""
    link = lists_root / as_of
    if link.is_symlink() or link.exists():
        return link.resolve()
    return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Staged:
    """A version folder written and fsynced but not yet published (no manifest yet)."""

    lists_root: Path
    as_of: str
    folder: Path
    manifest: dict[str, Any]
    file_mode: int = 0o600


def stage(
    lists_root: Path,
    as_of: str,
    run_id: str,
    write_files: Callable[[Path], dict[str, Any]],
    *,
    dir_mode: int = 0o700,
    file_mode: int = 0o600,
) -> Staged:
    """Write a version with ``write_files(folder) -> manifest``; publish nothing yet.

    On any exception the half-written version is removed.
    """
    target = version_dir(lists_root, as_of, run_id)
    (lists_root / VERSIONS).mkdir(parents=True, exist_ok=True, mode=dir_mode)
    os.chmod(lists_root / VERSIONS, dir_mode)
    shutil.rmtree(target, ignore_errors=True)  # a crashed attempt of the same run id
    target.mkdir(mode=dir_mode)
    try:
        manifest = write_files(target)
        for file in target.iterdir():
            os.chmod(file, file_mode)
            _fsync(file)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return Staged(lists_root, as_of, target, manifest, file_mode)


def commit(staged: Staged) -> Path:
    """Write the manifest last, then switch ``lists/<as_of>`` to the version in one rename.

    Until the rename nothing is published; on failure the version is removed and the
    previous lists stay. Older superseded versions are pruned afterwards; the one just
    replaced is kept for readers that still have it open (retention removes it later).
    """
    target, root = staged.folder, staged.lists_root
    try:
        manifest_path = target / "manifest.json"
        manifest_path.write_text(
            json.dumps(staged.manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        os.chmod(manifest_path, staged.file_mode)
        _fsync(manifest_path)
        _fsync(target)
        previous = current(root, staged.as_of)
        swap_link(root / staged.as_of, Path(VERSIONS) / target.name)
        _fsync(root)
    except BaseException:
        discard(staged)
        raise
    prune(root, staged.as_of, keep={target, previous} - {None})
    return target


def discard(staged: Staged) -> None:
    """Remove a staged version that will not be published."""
    shutil.rmtree(staged.folder, ignore_errors=True)


def publish(
    lists_root: Path,
    as_of: str,
    run_id: str,
    write_files: Callable[[Path], dict[str, Any]],
    *,
    dir_mode: int = 0o700,
    file_mode: int = 0o600,
) -> tuple[Path, dict[str, Any]]:
    """Stage and commit in one go (no step between writing and switching)."""
    staged = stage(lists_root, as_of, run_id, write_files, dir_mode=dir_mode, file_mode=file_mode)
    return commit(staged), staged.manifest


def swap_link(link: Path, points_to: Path) -> None:
    """Point ``link`` at ``points_to`` atomically (write a new link beside it, rename over)."""
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(points_to, tmp)
    if link.exists() and not link.is_symlink():
        # A plain folder from an older layout: move it aside, it stays as a version.
        link.rename(link.parent / VERSIONS / f"{link.name}--legacy")
    os.replace(tmp, link)


def prune(lists_root: Path, as_of: str, keep: set[Path]) -> list[Path]:
    """Remove versions of ``as_of`` other than those in ``keep``."""
    removed = []
    versions = lists_root / VERSIONS
    keep = {k.resolve() for k in keep}
    for folder in sorted(versions.glob(f"{as_of}--*")):
        if folder.resolve() not in keep:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
