"""The audit log: an append-only record of every run that a writer without the key cannot forge.

Each line of ``<workspace>/audit/audit.jsonl`` is one entry in canonical JSON (sorted keys,
no spaces, UTF-8) with ``seq`` (1, 2, 3...), ``prev`` (the previous entry's hash) and
``hash``: HMAC-SHA256 under the audit key of the entry without its ``hash``.

Why a keyed hash: a plain SHA-256 chain can be recomputed by anyone who can write the file,
so an edited, forged or reordered log looked intact. Why heads: no chain can tell that its
own end was cut off, or that the file was emptied or deleted; so every publication records
the chain head (``seq`` and ``hash``) in its manifest and its MLflow run (read by
:mod:`flows.audit_heads`), and :meth:`AuditLog.verify` checks the log against those heads.
Why canonical lines: a line must be byte for byte the canonical form of its entry, so even
an edit that leaves the JSON's meaning unchanged (a space turned into a tab) is found.

Entries hold counts, hashes and versions, never a person's identifier in clear. Standard
library only: ``audit verify`` must answer at once, without Prefect, MLflow or polars.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from features.errors import SourceError
from flows.audit_heads import RUNBOOK, Head, heads_in_manifests, heads_in_mlflow

__all__ = [
    "GENESIS",
    "LOG_DIR",
    "LOG_NAME",
    "RUNBOOK",
    "AuditBroken",
    "AuditLog",
    "Head",
    "Verification",
    "canonical",
    "entry_hash",
    "heads_in_manifests",
    "heads_in_mlflow",
    "log_path",
    "read_key",
]

GENESIS = "0" * 64
RESERVED = ("seq", "prev", "hash")
TAIL_BLOCK = 8192
LOG_DIR = "audit"  # the log's folder under a workspace, and its file: named here only
LOG_NAME = "audit.jsonl"


def log_path(workspace: Path) -> Path:
    """The workspace's audit log, ``<workspace>/audit/audit.jsonl``: every caller asks here,
    so the log can never be looked for in two places."""
    return Path(workspace) / LOG_DIR / LOG_NAME


def canonical(entry: dict[str, Any]) -> bytes:
    """The one byte form of an entry: what is hashed, and (with its hash) what is written."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 under ``key`` of the entry without its own ``hash``."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hmac.new(key, canonical(body), hashlib.sha256).hexdigest()


def _plain_sha256(entry: dict[str, Any]) -> str:
    """The unkeyed hash of earlier versions: recognised only to name it in the problem."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass
class Verification:
    """What ``verify`` found: ``entries`` that hold, and the first problem if any."""

    ok: bool
    entries: int
    broken_at: int | None = None  # line number (1-based) of the first broken or missing entry
    problem: str | None = None
    head: Head | None = None  # last intact entry
    heads_checked: int = 0  # distinct recorded heads compared with the log


@dataclass
class AuditBroken(SourceError):  # noqa: N818 (the name the callers were promised)
    """The audit log does not verify: no run may add to it or act until a person has looked."""

    line: int | None = None


class AuditLog:
    """One workspace's audit log under its key.

    Parameters
    ----------
    path
        ``<workspace>/audit/audit.jsonl``, as :func:`log_path` gives it.
    key
        The audit key (``ENNAKKO_AUDIT_KEY`` or the workspace's key file).
    file_mode
        Mode of the file when ``append`` creates it.
    """

    def __init__(self, path: Path, key: bytes, file_mode: int = 0o600) -> None:
        self.path = Path(path)
        self._key = key
        self.file_mode = file_mode

    def __repr__(self) -> str:  # never the key
        return f"AuditLog({str(self.path)!r})"

    # writing ---------------------------------------------------------------------------

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append ``record`` chained to the last entry; returns the entry written.

        An exclusive lock keeps two writers from interleaving; the last line is checked
        first (complete, canonical, its HMAC holds) so nothing is ever chained to a torn or
        forged entry; the file is fsynced before returning.

        Raises
        ------
        AuditBroken
            The last line is incomplete or not a valid entry under this key.
        ValueError
            ``record`` sets ``seq``, ``prev`` or ``hash``.
        """
        clash = [k for k in RESERVED if k in record]
        if clash:
            raise ValueError(f"an audit record may not set {', '.join(clash)}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, self.file_mode)
        with os.fdopen(fd, "r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                last = self._last_entry(handle, doing="the entry was not appended")
                entry = {
                    **record,
                    "seq": last["seq"] + 1 if last else 1,
                    "prev": last["hash"] if last else GENESIS,
                }
                entry["hash"] = entry_hash(entry, self._key)
                size = os.fstat(handle.fileno()).st_size
                try:
                    _write_all(handle.fileno(), canonical(entry) + b"\n")
                    os.fsync(handle.fileno())
                except OSError:
                    # A full disk mid-line: cut back to the last whole entry, so the log
                    # stays as it was and the next command is not stopped by a torn line.
                    os.ftruncate(handle.fileno(), size)
                    raise
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        if created:
            _fsync_dir(self.path.parent)
        return entry

    # reading ---------------------------------------------------------------------------

    def head(self) -> Head | None:
        """The last entry's seq and hash (None for a missing or empty log), read from the tail.

        Raises ``AuditBroken`` when the last line is incomplete or not a valid entry.
        """
        with self._shared() as handle:
            if handle is None:
                return None
            last = self._last_entry(handle, doing="no head was read")
        return Head(last["seq"], last["hash"]) if last else None

    def read(self) -> list[dict[str, Any]]:
        """All entries, oldest first; lines that are not JSON objects are left out (see verify)."""
        entries = []
        with self._shared() as handle:
            for raw in handle or ():
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries

    def verify(self, expected: Iterable[Head] = ()) -> Verification:
        """Check every entry (HMAC, ``prev`` link, ``seq`` 1, 2, 3..., canonical bytes) and
        that every ``expected`` head is in the log with the same hash.

        A head beyond the log's end means entries were removed, or the log was emptied or
        deleted. Reports the first problem, by line.
        """
        heads: dict[int, list[Head]] = {}
        for head in expected:
            same = heads.setdefault(head.seq, [])
            if head not in same:
                same.append(head)
        checked = sum(len(v) for v in heads.values())
        with self._shared() as handle:
            if handle is None:
                if heads:
                    witness = heads[max(heads)][0]
                    return Verification(
                        False,
                        0,
                        None,
                        f"the log does not exist, but {_named(witness)} recorded entry "
                        f"{witness.seq}: it was deleted",
                        heads_checked=checked,
                    )
                return Verification(True, 0, heads_checked=checked)
            number, previous, last = 0, GENESIS, None
            for raw in handle:
                number += 1
                entry, problem = self._check(raw)
                if entry is not None and problem is None:
                    problem = _link_problem(entry, number, previous)
                if entry is not None and problem is None:
                    problem = _head_problem(entry, heads.get(number, ()))
                if problem is not None:
                    return Verification(False, number - 1, number, problem, last, checked)
                previous = entry["hash"]
                last = Head(entry["seq"], entry["hash"])
        beyond = [h for seq, same in heads.items() if seq > number for h in same]
        if beyond:
            witness = max(beyond, key=lambda h: h.seq)
            if number == 0:
                problem = (
                    f"the log is empty, but {_named(witness)} recorded entry {witness.seq}: "
                    "it was emptied"
                )
            else:
                problem = (
                    f"the log ends at entry {number}, but {_named(witness)} recorded entry "
                    f"{witness.seq}: entries after {number} were removed"
                )
            return Verification(False, number, number + 1, problem, last, checked)
        return Verification(True, number, head=last, heads_checked=checked)

    def ensure_intact(self, expected: Iterable[Head] = ()) -> Verification:
        """Verify, or raise ``AuditBroken`` saying which line, what is wrong, that nothing was done."""
        result = self.verify(expected)
        if not result.ok:
            where = f"line {result.broken_at}" if result.broken_at else "the log"
            raise AuditBroken(
                source=str(self.path),
                message=f"the audit log is broken at {where}: {result.problem}. Nothing was done.",
                hint=f"See {RUNBOOK}.",
                line=result.broken_at,
            )
        return result

    # checks ----------------------------------------------------------------------------

    def _check(self, raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
        """One line on its own: complete, a JSON object, its HMAC holds, canonical bytes."""
        if not raw.endswith(b"\n"):
            return None, "the line is incomplete (it has no line end): a write was cut off"
        body = raw[:-1]
        if not body.strip():
            return None, "the line is blank: the log was edited"
        try:
            entry = json.loads(body.decode("utf-8"))
        except ValueError:
            return None, "the line is not valid JSON: it was edited or cut off"
        if not isinstance(entry, dict) or not all(k in entry for k in RESERVED):
            return None, "the line is not an audit entry (no seq, prev and hash)"
        if not hmac.compare_digest(str(entry["hash"]), entry_hash(entry, self._key)):
            if entry["hash"] == _plain_sha256(entry):
                return entry, (
                    "its hash is a plain SHA-256 that anyone can recompute, not an HMAC under "
                    "the audit key: the entry was forged, or written by an Ennakko version "
                    "before keyed audit logs"
                )
            return entry, (
                "its HMAC does not match its content under the audit key: the entry was "
                "edited or forged, or the log was written under another audit key"
            )
        if body != canonical(entry):
            return entry, (
                "its bytes are not the form Ennakko writes, though its content holds: "
                "the line was edited"
            )
        return entry, None

    def _last_entry(self, handle: IO[bytes], doing: str) -> dict[str, Any] | None:
        """The last line as a checked entry (None for an empty file), or ``AuditBroken``."""
        raw = _tail(handle)
        if raw is None:
            return None
        entry, problem = self._check(raw)
        if entry is not None and problem is None:
            seq = entry["seq"]
            if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
                problem = "its sequence number is not a positive whole number"
        if problem is None:
            return entry
        line = _count_lines(handle)
        raise AuditBroken(
            source=str(self.path),
            message=f"the audit log's last line ({line}) is broken: {problem}; {doing}.",
            hint=f"Nothing was done. See {RUNBOOK}.",
            line=line,
        )

    @contextmanager
    def _shared(self) -> Iterator[IO[bytes] | None]:
        """The log opened for reading under a shared lock (None when it does not exist), so a
        reader never sees an entry half-written."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            yield None
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            try:
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _link_problem(entry: dict[str, Any], number: int, previous: str) -> str | None:
    if entry["seq"] != number or isinstance(entry["seq"], bool):
        return (
            f"its sequence number is {entry['seq']!r} where {number} belongs: entries were "
            "removed, inserted or reordered"
        )
    if entry["prev"] != previous:
        return (
            "it does not link to the entry before it: entries were removed, inserted or reordered"
        )
    return None


def _head_problem(entry: dict[str, Any], heads: Iterable[Head]) -> str | None:
    for head in heads:
        if head.hash != entry["hash"]:
            return (
                f"entry {head.seq} is not the one {_named(head)} recorded: the log was "
                "rewritten from here on (or that record was edited)"
            )
    return None


def _named(head: Head) -> str:
    return head.source or "a publication"


def _tail(handle: IO[bytes]) -> bytes | None:
    """The file's last line with its line end if it has one; None for an empty file."""
    end = handle.seek(0, os.SEEK_END)
    if end == 0:
        return None
    data, position = b"", end
    while position > 0:
        step = min(TAIL_BLOCK, position)
        position -= step
        handle.seek(position)
        data = handle.read(step) + data
        cut = data.rfind(b"\n", 0, len(data) - 1)
        if cut >= 0:
            return data[cut + 1 :]
    return data


def _count_lines(handle: IO[bytes]) -> int:
    """Number of the file's last line (only on the error path: reads the whole file)."""
    handle.seek(0)
    count, last = 0, b""
    while block := handle.read(1 << 20):
        count += block.count(b"\n")
        last = block
    return count + (0 if last.endswith(b"\n") else 1)


def _write_all(fd: int, data: bytes) -> None:
    """Write straight to the file (no buffer left to flush after a failure)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_key(secret: str | None, key_file: Path) -> bytes | None:
    """The audit key as ``flows.runtime.keys`` gets it, without creating a key file: the
    secret if set, else the workspace's key file, else None."""
    if secret:
        return secret.encode()
    try:
        return key_file.read_text().strip().encode()
    except FileNotFoundError:
        return None


# Until every caller holds an AuditLog (the lead engineer is moving them), the module-level
# functions of the unkeyed chain keep working under an empty key. Remove with the last caller.


def append(
    path: Path, record: dict[str, Any], file_mode: int = 0o600, *, key: bytes = b""
) -> dict[str, Any]:
    """Temporary: ``AuditLog(path, key, file_mode).append(record)``."""
    return AuditLog(path, key, file_mode).append(record)


def verify(path: Path, key: bytes = b"", expected: Iterable[Head] = ()) -> Verification:
    """Temporary: ``AuditLog(path, key).verify(expected)``."""
    return AuditLog(path, key).verify(expected)


def read(path: Path) -> list[dict[str, Any]]:
    """All entries, oldest first (no key needed to read)."""
    return AuditLog(path, b"").read()
