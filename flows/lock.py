"""One writer at a time per workspace: the lock that run, train, erase, retention and
reviews import take before they read or change anything.

An advisory ``flock`` on ``<workspace>/.lock``: the kernel releases it when the holder
exits, however it exits (a kill -9 included), so a crash never leaves a stale lock. The
file also says who holds it (command, process id, since when), so the second caller can
tell the operator what it is waiting for. Re-entrant within one process: the nightly flow
that trains its first model does not wait for itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from features.errors import SourceError
from flows import clock

LOCK_FILE = ".lock"
_held: dict[Path, int] = {}  # lock path -> depth, within this process


@dataclass
class WorkspaceBusyError(SourceError):
    """Another command held the workspace for longer than we were willing to wait."""

    exit_code: int = 3


@dataclass
class WorkspaceUnwritableError(SourceError):
    """The workspace cannot be written: say so at once, before any work is done."""


def unwritable(root: Path, exc: OSError) -> WorkspaceUnwritableError:
    """The one paragraph for a workspace that cannot be written (read-only, full, missing
    rights): said at once, before any work is done."""
    return WorkspaceUnwritableError(
        str(root),
        f"the workspace cannot be written ({exc.strerror or exc}); nothing was done.",
        hint="Check that the folder exists, is writable by this user and the disk has room.",
    )


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another Ennakko command"
    if not info:
        return "another Ennakko command"
    return f"`ennakko {info.get('command', '?')}` (process {info.get('pid', '?')}, since {info.get('since', '?')})"


@contextlib.contextmanager
def workspace_lock(
    root: Path, command: str, wait_seconds: float, *, poll: float = 0.5
) -> Iterator[None]:
    """Hold the workspace's lock for the block; wait up to ``wait_seconds`` for it.

    Raises
    ------
    WorkspaceBusyError
        The lock was still held by another process when the wait ran out.
    WorkspaceUnwritableError
        The lock file cannot be created (a read-only or full workspace).
    """
    path = (root / LOCK_FILE).resolve()
    if _held.get(path):
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise unwritable(root, exc) from None
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WorkspaceBusyError(
                        str(root),
                        f"{_holder(path)} is still working in this workspace after "
                        f"{wait_seconds:.0f} s of waiting; `ennakko {command}` did nothing.",
                        hint="Run it again when that command has finished, or raise "
                        "lock_wait_seconds in the configuration.",
                    ) from None
                time.sleep(poll)
        info = {
            "command": command,
            "pid": os.getpid(),
            "since": clock.now("UTC").isoformat(timespec="seconds"),  # no settings here: UTC
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        _held[path] = 1
        try:
            yield
        finally:
            _held.pop(path, None)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
