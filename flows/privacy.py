"""Erasure: remove a person from every derived store, and keep them out.

The **erasure register** (``privacy/erasures.jsonl``) holds, per erased person, keyed
hashes (HMAC under the audit key) of the pseudonym the consent register issued and, with
the second pseudonym layer on, of the layer's id: every store can be matched against it
whichever id it holds, and nothing keeps the identifier in clear. The consent gate, the
import of counsellors' decisions and every run consult it.

An erasure is **journaled**: before it changes anything it writes its plan (the team
lists and model versions it will touch) to ``privacy/pending/<hash>.json``; every step
is idempotent and matches rows by keyed hash, so a re-run after a crash (of ``erase``, or
of the next command that takes the workspace lock) completes every step without the
pseudonym. Only rows whose id columns match are removed: no other cell is compared.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from features.errors import SourceError
from features.pseudonym import keyed_hash
from flows.workspace import Workspace

REGISTER = ("privacy", "erasures.jsonl")
PENDING = ("privacy", "pending")
# Columns that hold a person's pseudonym in some layer; no other column is ever matched.
ID_COLUMNS = ("person_id", "list_person_id", "internal_id")
STORES = ("scores", "features", "quarantine", "snapshots", "reviews")


def layer_id(person_id: str, pseudonym_key: bytes) -> str:
    """The second pseudonym layer's id of ``person_id`` (as flows.pipeline makes it)."""
    return "H" + keyed_hash(person_id, pseudonym_key)[:24]


def register_entries(ws: Workspace) -> list[dict]:
    """The erasure register's entries; a damaged line stops everything that reads it
    (failing closed: a person must never come back because a line could not be read)."""
    path = ws.path(*REGISTER)
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except ValueError:
            raise SourceError(
                str(path),
                f"line {number} of the erasure register is damaged; nothing was done.",
                hint="Restore the register from backup; every erasure is also in the audit "
                "log (event erasure, person_hash). See docs/runbook.md.",
            ) from None
    return entries


def check_register(ws: Workspace, audit_entries: Iterable[dict]) -> None:
    """Every erasure the audit log records must still be in the register: a removed line
    would bring the person back at the next run."""
    recorded = {e.get("person_hash") for e in audit_entries if e.get("event") == "erasure"}
    missing = recorded - {e["person_hash"] for e in register_entries(ws)} - {None}
    if missing:
        raise SourceError(
            str(ws.path(*REGISTER)),
            f"{len(missing)} erasure(s) that the audit log records are missing from the erasure "
            "register: lines were removed, and the persons would come back; nothing was done.",
            hint="Restore the register from backup, or erase those persons again. See "
            "docs/runbook.md.",
        )


def erased_hashes(ws: Workspace) -> set[str]:
    """Every keyed hash in the register, of either pseudonym layer."""
    out: set[str] = set()
    for entry in register_entries(ws):
        out.add(entry["person_hash"])
        if entry.get("layer_hash"):
            out.add(entry["layer_hash"])
    return out


def erased_ids(ws: Workspace, consents: pl.DataFrame, key: bytes) -> list[str]:
    """The ``person_id`` values (of whichever layer the run uses) of erased persons.

    ``consents`` carries the consent register's pseudonym in ``list_person_id`` when the
    second layer is on, else in ``person_id``; the register is keyed by that pseudonym.
    """
    hashes = erased_hashes(ws)
    if not hashes:
        return []
    issued = "list_person_id" if "list_person_id" in consents.columns else "person_id"
    pairs = consents.select(pl.col(issued).alias("issued"), "person_id").unique()
    return [run_id for pid, run_id in pairs.iter_rows() if keyed_hash(pid, key) in hashes]


@dataclass
class ErasureReport:
    person_hash: str
    files_rewritten: list[str] = field(default_factory=list)
    rows_removed: int = 0
    model_versions_marked: list[str] = field(default_factory=list)
    traces_left: list[str] = field(default_factory=list)


@dataclass
class Journal:
    """An erasure's plan and progress, kept until its audit entry is written."""

    person_hash: str
    layer_hash: str | None
    erased_at: str
    reason: str = ""
    versions: list[str] = field(default_factory=list)
    list_files: list[str] = field(default_factory=list)  # team Parquets holding the person
    files_rewritten: list[str] = field(default_factory=list)
    rows_removed: int = 0

    @property
    def hashes(self) -> set[str]:
        return {self.person_hash} | ({self.layer_hash} if self.layer_hash else set())


def journal_path(ws: Workspace, person_hash: str) -> Path:
    return ws.path(*PENDING, f"{person_hash[:32]}.json")


def save_journal(ws: Workspace, journal: Journal) -> None:
    ws.write_text(journal_path(ws, journal.person_hash), json.dumps(asdict(journal), indent=1))


def pending_journals(ws: Workspace) -> list[Journal]:
    folder = ws.path(*PENDING)
    if not folder.exists():
        return []
    return [Journal(**json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]


def register_erasure(ws: Workspace, journal: Journal) -> None:
    """Add the person to the register (once), durably, before any store is touched."""
    if journal.person_hash in {e["person_hash"] for e in register_entries(ws)}:
        return
    path = ws.path(*REGISTER)
    ws.mkdir(path.parent)
    entry = {
        "person_hash": journal.person_hash,
        "layer_hash": journal.layer_hash,
        "erased_at": journal.erased_at,
        "reason": journal.reason,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, ws.file_mode)
    try:
        size = os.fstat(fd).st_size
        try:
            view = memoryview((json.dumps(entry, sort_keys=True) + "\n").encode())
            while view:  # straight to the file: no buffer left to flush after a failure
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:  # a full disk mid-line: leave no torn line behind
            os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)


class Matcher:
    """Which id values belong to erased persons, by keyed hash (memoised per value)."""

    def __init__(self, hashes: set[str], key: bytes) -> None:
        self.hashes, self.key, self._seen = hashes, key, {}

    def __call__(self, values: Iterable[str]) -> set[str]:
        hit = set()
        for value in values:
            if value is None:
                continue
            known = self._seen.get(value)
            if known is None:
                known = self._seen[value] = keyed_hash(value, self.key) in self.hashes
            if known:
                hit.add(value)
        return hit

    def rows(self, frame: pl.DataFrame) -> pl.Expr | None:
        """An expression true on rows whose id columns hold an erased person, or None."""
        columns = [c for c in ID_COLUMNS if frame.schema.get(c) == pl.String]
        exprs = []
        for column in columns:
            hit = self(frame[column].unique().to_list())
            if hit:
                exprs.append(pl.col(column).is_in(sorted(hit)).fill_null(False))
        return pl.any_horizontal(exprs) if exprs else None


def scrub_file(ws: Workspace, path: Path, match: Matcher) -> int:
    """Rewrite a Parquet or CSV file without the erased persons' rows; rows removed."""
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
    elif path.suffix == ".csv":
        frame = pl.read_csv(path, infer_schema=False)
    else:
        return 0
    hit = match.rows(frame)
    if hit is None:
        return 0
    kept = frame.filter(~hit)
    removed = frame.height - kept.height
    if path.suffix == ".parquet":
        ws.write_parquet(path, kept)
    else:
        with ws.atomic(path) as tmp:
            kept.write_csv(tmp)
    return removed


def holds(path: Path, match: Matcher) -> bool:
    """Does a Parquet file hold a row of an erased person?"""
    try:
        frame = pl.read_parquet(path, columns=None)
    except Exception:  # not ours to judge; find_traces reports unreadable files
        return False
    return match.rows(frame) is not None


def plan(
    ws: Workspace, journal: Journal, match: Matcher, versions_of: Callable[[list[str]], list[str]]
) -> Journal:
    """Which model versions were trained with the person and which published team lists
    hold them: recorded before anything is changed, so a crash cannot make them forgotten."""
    snapshots = [p.stem for p in sorted(ws.path("snapshots").glob("*.parquet")) if holds(p, match)]
    journal.versions = versions_of(snapshots)
    journal.list_files = [
        str(p.relative_to(ws.root))
        for p in sorted(ws.path("lists", ".versions").glob("*/*.parquet"))
        if holds(p, match)
    ]
    save_journal(ws, journal)
    return journal


def complete(
    ws: Workspace,
    journal: Journal,
    match: Matcher,
    *,
    rebuild_list: Callable[[Path], list[Path]],
    mark_versions: Callable[[list[str]], list[str]],
) -> ErasureReport:
    """Carry out every step of a planned erasure; idempotent, so safe to repeat."""
    report = ErasureReport(person_hash=journal.person_hash)
    report.model_versions_marked = mark_versions(journal.versions)

    def rewritten(path: Path, removed: int) -> None:
        name = str(path.relative_to(ws.root))
        journal.rows_removed += removed
        if name not in journal.files_rewritten:
            journal.files_rewritten.append(name)
        save_journal(ws, journal)

    for store in STORES:
        root = ws.path(store)
        for path in sorted(root.rglob("*")) if root.exists() else []:
            if path.is_file() and not path.is_symlink():
                removed = scrub_file(ws, path, match)
                if removed:
                    rewritten(path, removed)
    for name in journal.list_files:
        parquet = ws.root / name
        if not parquet.exists():
            continue  # removed by retention meanwhile
        removed = scrub_file(ws, parquet, match)
        if removed:
            rewritten(parquet, removed)
        # The team's CSV and workbook and the manifest are rebuilt from the Parquet every
        # time: a crash may have come between them.
        for path in rebuild_list(parquet):
            rewritten(path, 0)
    report.files_rewritten = list(journal.files_rewritten)
    report.rows_removed = journal.rows_removed
    return report


def find_traces(root: Path, needles: Iterable[str], skip: Iterable[Path] = ()) -> list[str]:
    """Files below ``root`` that contain any needle: text searched as bytes, Parquet
    decoded (its pages are compressed), workbooks unzipped."""
    needles = [n for n in needles if n]
    raw = [n.encode() for n in needles]
    skipped = {p.resolve() for p in skip}
    hits = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.resolve() in skipped:
            continue
        if _contains(path, needles, raw):
            hits.append(str(path))
    return hits


def _contains(path: Path, needles: list[str], raw: list[bytes]) -> bool:
    if path.suffix == ".parquet":
        try:
            frame = pl.read_parquet(path)
        except Exception:
            return any(r in path.read_bytes() for r in raw)
        for col, dtype in frame.schema.items():
            if dtype == pl.String and any(
                frame[col].str.contains(n, literal=True).any() for n in needles
            ):
                return True
        return False
    if path.suffix == ".xlsx":
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                return any(any(r in archive.read(name) for r in raw) for name in archive.namelist())
        except zipfile.BadZipFile:
            pass
    data = path.read_bytes()
    return any(r in data for r in raw)


def new_journal(
    person_id: str, audit_key: bytes, pseudonym_key: bytes | None, when: date, reason: str
) -> Journal:
    return Journal(
        person_hash=keyed_hash(person_id, audit_key),
        layer_hash=keyed_hash(layer_id(person_id, pseudonym_key), audit_key)
        if pseudonym_key
        else None,
        erased_at=when.isoformat(),
        reason=reason,
    )
