"""Erasure: remove a person from every derived store, and keep them out.

``erase`` records a keyed hash of the pseudonym in ``privacy/erasures.jsonl`` (so later
runs exclude the person even while partners' extracts still hold their rows), rewrites
every derived store without the person (published lists of every version, scores,
feature caches, quarantine, training snapshots, returned decisions), tags registered
model versions trained with them so the next training excludes them, and appends an
audit entry holding only the hash. Nothing keeps the identifier in clear.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from features.pseudonym import keyed_hash
from flows.workspace import Workspace

REGISTER = ("privacy", "erasures.jsonl")
TEXT_SUFFIXES = {".csv", ".json", ".jsonl", ".md", ".txt", ".html", ".yaml", ".log"}


def erased_hashes(ws: Workspace) -> set[str]:
    path = ws.path(*REGISTER)
    if not path.exists():
        return set()
    return {json.loads(line)["person_hash"] for line in path.read_text().splitlines() if line}


def erased_ids(ws: Workspace, person_ids: pl.Series, key: bytes) -> list[str]:
    """Which of ``person_ids`` (pseudonyms in clear, in memory only) have been erased."""
    hashes = erased_hashes(ws)
    if not hashes:
        return []
    return [p for p in person_ids.unique().to_list() if keyed_hash(p, key) in hashes]


@dataclass
class ErasureReport:
    person_hash: str
    files_rewritten: list[str] = field(default_factory=list)
    rows_removed: int = 0
    model_versions_marked: list[str] = field(default_factory=list)
    traces_left: list[str] = field(default_factory=list)


def register_erasure(ws: Workspace, person_hash: str, when: date, reason: str | None) -> None:
    path = ws.path(*REGISTER)
    ws.mkdir(path.parent)
    entry = {"person_hash": person_hash, "erased_at": when.isoformat(), "reason": reason or ""}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    path.chmod(ws.file_mode)


def scrub_parquet(ws: Workspace, path: Path, ids: set[str]) -> int:
    """Rewrite ``path`` without rows whose person_id (or any text cell) is in ``ids``."""
    frame = pl.read_parquet(path)
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    if not text_cols:
        return 0
    hit = pl.any_horizontal([pl.col(c).is_in(list(ids)).fill_null(False) for c in text_cols])
    removed = frame.filter(hit).height
    if removed:
        ws.write_parquet(path, frame.filter(~hit))
    return removed


def scrub_csv(ws: Workspace, path: Path, ids: set[str]) -> int:
    frame = pl.read_csv(path, infer_schema=False)
    text_cols = frame.columns
    hit = pl.any_horizontal([pl.col(c).is_in(list(ids)).fill_null(False) for c in text_cols])
    removed = frame.filter(hit).height
    if removed:
        with ws.atomic(path) as tmp:
            frame.filter(~hit).write_csv(tmp)
    return removed


def scrub_tree(
    ws: Workspace,
    roots: Iterable[Path],
    ids: set[str],
    report: ErasureReport,
    rewrite_xlsx: Callable[[Path], None] | None = None,
) -> None:
    """Scrub every Parquet and CSV file below ``roots``; rebuild touched workbooks."""
    for root in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            removed = 0
            if path.suffix == ".parquet":
                removed = scrub_parquet(ws, path, ids)
            elif path.suffix == ".csv":
                removed = scrub_csv(ws, path, ids)
            if removed:
                report.rows_removed += removed
                report.files_rewritten.append(str(path.relative_to(ws.root)))
                if rewrite_xlsx is not None:
                    rewrite_xlsx(path)


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
            if dtype == pl.String and frame[col].is_in(needles).any():
                return True
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


def erase(
    ws: Workspace,
    person_id: str,
    *,
    audit_key: bytes,
    pseudonym_key: bytes | None,
    when: date,
    reason: str | None,
    rewrite_workbook: Callable[[Path], None],
    mark_versions: Callable[[list[str]], list[str]],
) -> ErasureReport:
    """Erase ``person_id`` from every derived store of the workspace.

    ``rewrite_workbook`` rebuilds a list's XLSX from its scrubbed Parquet and fixes the
    manifest; ``mark_versions`` tags registered model versions by name (the snapshots say
    which were trained with the person) and returns the ones it tagged.
    """
    person_hash = keyed_hash(person_id, audit_key)
    report = ErasureReport(person_hash=person_hash)
    ids = {person_id}
    if pseudonym_key:
        ids.add("H" + keyed_hash(person_id, pseudonym_key)[:24])
    register_erasure(ws, person_hash, when, reason)
    trained_with = []
    for snapshot in sorted(ws.path("snapshots").glob("*.parquet")):
        frame = pl.read_parquet(snapshot)
        if frame["person_id"].is_in(list(ids)).any():
            trained_with.append(snapshot.stem)
    stores = [
        ws.path(name) for name in ("scores", "features", "quarantine", "snapshots", "reviews")
    ]
    scrub_tree(ws, stores, ids, report)
    versions = ws.path("lists", ".versions")
    scrub_tree(ws, [versions], ids, report, rewrite_xlsx=rewrite_workbook)
    report.model_versions_marked = mark_versions(trained_with)
    report.traces_left = find_traces(ws.root, sorted(ids), skip=[ws.path(*REGISTER)])
    return report
