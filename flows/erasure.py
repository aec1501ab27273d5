"""``ennakko erase``: the command around flows.privacy, with MLflow and the lists.

Deliberately not a Prefect flow: a flow's parameters are stored in Prefect's database in
clear, and the identifier must not be kept anywhere.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import date
from pathlib import Path

import polars as pl

from features.errors import SourceError, looks_like_identifier
from flows import privacy
from flows.run import RunContext
from flows.store import tag_versions_in_store
from flows.workspace import sha256_file
from outreach.writers import write_team_files

# Stores that hold the pseudonym the consent register issued (besides the consents
# extract); scores, features and snapshots hold the second layer's ids when it is on.
KNOWN_IN = ("reviews",)
LAYER_ID = re.compile(r"^H[0-9a-f]{24}$")
# Pseudonyms in the form our consent register (and the synthetic city) issues, and the
# second layer's ids, anywhere in a text.
PSEUDONYM = re.compile(r"\bEN[0-9A-F]{10}\b|\bH[0-9a-f]{24}\b")


def rebuild_team_list(ctx: RunContext, parquet: Path) -> list[Path]:
    """Rebuild one team's CSV and workbook from its (scrubbed) Parquet, and the version's
    manifest (hashes, counts), so the three formats and the manifest agree again."""
    folder = parquet.parent
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        return []
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    as_of = manifest["as_of"]
    team = parquet.stem[len(as_of) + 1 :]
    frame = pl.read_parquet(parquet)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(dir=folder, prefix=".rebuild-") as tmp:
        paths = write_team_files(
            frame, Path(tmp), parquet.stem, title=f"Ennakko · {manifest.get('area', '')}",
            as_of=date.fromisoformat(as_of), team=team,
            language=manifest.get("teams", {}).get(team, {}).get("language", "fi"),
            model_version=str(manifest.get("model", {}).get("version", "")),
        )  # fmt: skip
        for path in paths:
            if path.suffix != ".parquet":
                os.chmod(path, ctx.ws.file_mode)
                os.replace(path, folder / path.name)
                written.append(folder / path.name)
    teams = manifest.get("teams", {})
    if team in teams:
        teams[team]["rows"] = frame.height
        if "section" in frame.columns and "asked" in teams[team]:
            teams[team]["asked"] = int((frame["section"] == "asked").sum())
            manifest.setdefault("counts", {}).setdefault("asked", {})[team] = teams[team]["asked"]
    for name in list(manifest["files"]):
        manifest["files"][name] = sha256_file(folder / name)
    manifest["rows"] = sum(t["rows"] for t in teams.values())
    manifest["erasures_applied"] = len(
        [e for e in privacy.register_entries(ctx.ws) if e["erased_at"] >= as_of]
    )
    ctx.ws.write_text(
        manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    )
    return [*written, manifest_path]


def _mark_versions(ctx: RunContext, snapshots: list[str]) -> list[str]:
    """Model versions named by the snapshots (``<model>-v<N>``)."""
    name = ctx.settings.model.registered_name
    versions = [s.removeprefix(f"{name}-v") for s in snapshots]
    return [v for v in versions if v.isdigit()]


def tag_versions(ctx: RunContext, versions: list[str]) -> list[str]:
    """Tag registered versions trained with an erased person: retrain before relying on
    them. In the embedded store directly (no MLflow import); through MLflow otherwise."""
    if not versions:
        return []
    s = ctx.settings
    tags = {
        "erasure_pending": "true",
        "erasure_note": "trained with a person since erased; retrain",
    }
    db = s.workspace / "mlflow" / "mlflow.db"
    name = s.model.registered_name
    if s.mlflow.tracking_uri is None and tag_versions_in_store(db, name, versions, tags):
        return versions
    from flows.tracking import registry_for

    registry = registry_for(ctx)
    for version in versions:
        for key, value in tags.items():
            registry.tag_version(version, key, value)
    return versions


def uses_second_layer(ctx: RunContext) -> bool:
    """Do the derived stores hold the second layer's ids (``H`` + 24 hex digits)?"""
    newest = sorted(ctx.ws.path("scores").glob("*.parquet"))[-1:]
    for path in newest:
        ids = pl.read_parquet(path, columns=["person_id"])["person_id"].head(20)
        return any(LAYER_ID.match(v or "") for v in ids.to_list())
    return False


def refuse_layer_confusion(ctx: RunContext, person_id: str) -> None:
    """An erasure works on the pseudonym the consent register issued, with the key of the
    second layer when the workspace uses one: otherwise it would miss half the stores."""
    if LAYER_ID.match(person_id):
        raise SourceError(
            "--person-id",
            "this is a second-layer id from inside Ennakko's stores, not the pseudonym the "
            "consent register issued; nothing was erased.",
            hint="Give the pseudonym from the consent register or a list (column person_id).",
        )
    if ctx.keys.pseudonym is None and uses_second_layer(ctx):
        raise SourceError(
            "ENNAKKO_PSEUDONYM_KEY",
            "this workspace uses the second pseudonym layer, and its key is not set: the "
            "erasure would miss the stores that hold the layer's ids; nothing was erased.",
            hint="Run `ennakko erase` with ENNAKKO_PSEUDONYM_KEY set, as the nightly run has it.",
        )


def is_known(ctx: RunContext, person_id: str, match: privacy.Matcher) -> bool:
    """Does Ennakko know this pseudonym: erased before, in a derived store, or issued by
    the consent register (the consents extract)?"""
    if match.hashes & privacy.erased_hashes(ctx.ws):
        return True
    for store in KNOWN_IN:
        for path in sorted(ctx.ws.path(store).rglob("*.parquet")):
            if privacy.holds(path, match):
                return True
    versions = ctx.ws.path("lists", ".versions")
    if versions.exists() and any(privacy.holds(p, match) for p in versions.rglob("*.parquet")):
        return True
    from features.contracts import Context
    from features.sources import load_source

    s = ctx.settings
    try:
        consents, _ = load_source(
            s.data_dir, "consents", s.sources.consents, Context(ctx.today, tuple(s.partners))
        )
    except SourceError:
        return False
    return person_id in set(consents.good["person_id"].to_list())


def finish(
    ctx: RunContext, journal: privacy.Journal, needles: tuple[str, ...] = ()
) -> privacy.ErasureReport:
    """Register, complete a planned erasure, check for traces, write its audit entry and
    close its journal: every step idempotent."""
    privacy.register_erasure(ctx.ws, journal)
    match = privacy.Matcher(journal.hashes, ctx.keys.audit)
    report = privacy.complete(
        ctx.ws, journal, match,
        rebuild_list=lambda parquet: rebuild_team_list(ctx, parquet),
        mark_versions=lambda versions: tag_versions(ctx, versions),
    )  # fmt: skip
    if needles:
        report.traces_left = privacy.find_traces(
            ctx.ws.root, needles, skip=[ctx.ws.path(*privacy.REGISTER)]
        )
    last = (ctx.audit.read() or [{}])[-1]
    if last.get("event") == "erasure" and last.get("person_hash") == report.person_hash:
        # A crash came between this entry and closing the journal: it is written already.
        record_head(ctx)
        privacy.journal_path(ctx.ws, journal.person_hash).unlink(missing_ok=True)
        return report
    ctx.audit.append(
        {
            "event": "erasure",
            "run_id": ctx.run_id,
            "at": ctx.notes.get("started_at"),
            "person_hash": report.person_hash,
            "reason": journal.reason,
            "files_rewritten": report.files_rewritten,
            "rows_removed": report.rows_removed,
            "model_versions_marked": report.model_versions_marked,
            "traces_left": len(report.traces_left),
            "traces_searched": bool(needles),  # not without the pseudonym (a resumed erasure)
        }
    )
    record_head(ctx)
    privacy.journal_path(ctx.ws, journal.person_hash).unlink(missing_ok=True)
    return report


def record_head(ctx: RunContext) -> None:
    """Write the audit chain's new head into every published manifest, so removing the
    erasure's audit entry (and its register line) is noticed like any other cut."""
    head = ctx.audit.head()
    root = ctx.ws.path("lists")
    for link in sorted(root.iterdir()) if head and root.exists() else []:
        manifest_path = link / "manifest.json"
        if not link.is_symlink() or not manifest_path.exists():
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["audit_head"] = head.as_dict()
        ctx.ws.write_text(
            manifest_path.resolve(),
            json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        )


def run_erasure(ctx: RunContext, person_id: str, reason: str | None) -> privacy.ErasureReport:
    """Erase one person; the caller holds the workspace lock.

    Raises
    ------
    SourceError
        The pseudonym is not one Ennakko knows (a typo, or a name or code typed instead).
    """
    refuse_layer_confusion(ctx, person_id)
    if reason and (
        person_id in reason or looks_like_identifier(reason) or PSEUDONYM.search(reason)
    ):
        raise SourceError(
            "--reason",
            "the reason holds an identifier (a pseudonym, identity code, phone number or "
            "e-mail), and the audit log keeps it for good; nothing was erased.",
            hint='Say why in words only, e.g. --reason "request by the person, 2026-11-30".',
        )
    journal = privacy.new_journal(
        person_id, ctx.keys.audit, ctx.keys.pseudonym, ctx.today, reason or ""
    )
    match = privacy.Matcher(journal.hashes, ctx.keys.audit)
    pending = {j.person_hash: j for j in privacy.pending_journals(ctx.ws)}
    if journal.person_hash in pending:
        journal = pending[journal.person_hash]
    elif not is_known(ctx, person_id, match):
        raise SourceError(
            "--person-id",
            "this is not a pseudonym Ennakko knows: no consent, list, score or decision holds "
            "it, and nothing was erased.",
            hint="Copy the pseudonym from the consent register or a list (column person_id); "
            "names, identity codes or other values are never accepted here.",
        )
    else:
        privacy.plan(ctx.ws, journal, match, lambda snaps: _mark_versions(ctx, snaps))
    needles = (person_id,)
    if ctx.keys.pseudonym:
        needles += (privacy.layer_id(person_id, ctx.keys.pseudonym),)
    return finish(ctx, journal, needles)


def finish_pending(ctx: RunContext) -> list[privacy.ErasureReport]:
    """Complete erasures a crash left half done (run by every command that takes the
    workspace lock, before anything else)."""
    reports = []
    for journal in privacy.pending_journals(ctx.ws):
        ctx.say("completing an erasure a crash left unfinished")
        reports.append(finish(ctx, journal))
    return reports
