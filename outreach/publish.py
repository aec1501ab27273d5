"""Publish a day's lists atomically: a reader sees the complete new lists or the previous ones.

The files are written into a fresh version folder ``lists/.versions/<D>--<run>/`` and
fsynced, the manifest last; then the symlink ``lists/<D>`` is replaced in one
``rename(2)``. A crash at any point before the rename leaves ``lists/<D>`` pointing at the
previous version, untouched. Older superseded versions are removed, the one just
replaced is kept for readers that still have it open (retention removes it later).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

VERSIONS = ".versions"


def version_dir(lists_root: Path, as_of: str, run_id: str) -> Path:
    return lists_root / VERSIONS / f"{as_of}--{run_id}"


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


def publish(
    lists_root: Path,
    as_of: str,
    run_id: str,
    write_files: Callable[[Path], dict[str, Any]],
    *,
    dir_mode: int = 0o700,
    file_mode: int = 0o600,
) -> tuple[Path, dict[str, Any]]:
    """Write a version with ``write_files(folder) -> manifest`` and switch ``lists/<as_of>`` to it.

    ``write_files`` writes the list files into the folder and returns the manifest, which
    is written last as ``manifest.json``. On any exception the half-written version is
    removed and the previous lists stay published.
    """
    target = version_dir(lists_root, as_of, run_id)
    (lists_root / VERSIONS).mkdir(parents=True, exist_ok=True, mode=dir_mode)
    os.chmod(lists_root / VERSIONS, dir_mode)
    target.mkdir(mode=dir_mode)
    try:
        manifest = write_files(target)
        (target / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        for file in target.iterdir():
            os.chmod(file, file_mode)
            _fsync(file)
        _fsync(target)
        previous = current(lists_root, as_of)
        swap_link(lists_root / as_of, Path(VERSIONS) / target.name)
        _fsync(lists_root)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    prune(lists_root, as_of, keep={target, previous} - {None})
    return target, manifest


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
