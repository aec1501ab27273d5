"""The audit log: an append-only, hash-chained record of every run.

Each line of ``<workspace>/audit/audit.jsonl`` is a JSON object with ``seq``, ``prev``
(the previous entry's hash) and ``hash`` (SHA-256 of the entry without its own hash, in
canonical JSON). Changing, removing or reordering any entry breaks the chain from there
on, and :func:`verify` names the first broken entry. Entries hold counts, hashes and
versions, never a person's identifier in clear.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def append(path: Path, record: dict[str, Any], file_mode: int = 0o600) -> dict[str, Any]:
    """Append ``record`` chained to the last entry; returns the entry written.

    An exclusive lock keeps two runs from interleaving their entries.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, file_mode)
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            last = None
            for line in handle:
                if line.strip():
                    last = line
            previous = json.loads(last) if last else None
            entry = {
                **record,
                "seq": (previous["seq"] + 1) if previous else 1,
                "prev": previous["hash"] if previous else GENESIS,
            }
            entry["hash"] = entry_hash(entry)
            handle.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


@dataclass
class Verification:
    ok: bool
    entries: int
    broken_at: int | None = None  # line number (1-based) of the first broken entry
    problem: str | None = None


def verify(path: Path) -> Verification:
    """Check every entry's hash and link; report the first one that does not hold."""
    if not path.exists():
        return Verification(True, 0)
    previous = GENESIS
    count = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            count += 1
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                return Verification(False, count, number, "the line is not valid JSON")
            if entry.get("prev") != previous:
                return Verification(False, count, number, "it does not link to the entry before it")
            if entry.get("hash") != entry_hash(entry):
                return Verification(
                    False, count, number, "its content does not match its hash (edited)"
                )
            if entry.get("seq") != count:
                return Verification(False, count, number, "its sequence number is out of order")
            previous = entry["hash"]
    return Verification(True, count)


def read(path: Path) -> list[dict[str, Any]]:
    """All entries, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
