"""``ennakko erase``: the command around flows.privacy.erase, with MLflow and the lists.

Deliberately not a Prefect flow: a flow's parameters are stored in Prefect's database in
clear, and the identifier must not be kept anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from flows import audit
from flows.pipeline import RunContext
from flows.privacy import ErasureReport, erase
from flows.tracking import registry_for
from flows.workspace import sha256_file
from outreach.writers import write_xlsx


def rewrite_list_files(ctx: RunContext, scrubbed: Path) -> None:
    """After a list's CSV or Parquet lost rows: rebuild its workbook and manifest from the
    Parquet, so the three formats and the hashes agree again."""
    folder = scrubbed.parent
    parquet = scrubbed.with_suffix(".parquet")
    manifest_path = folder / "manifest.json"
    if not parquet.exists() or not manifest_path.exists():
        return
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    frame = pl.read_parquet(parquet)
    team = parquet.stem.split("-", 3)[-1]
    xlsx = parquet.with_suffix(".xlsx")
    with ctx.ws.atomic(xlsx) as tmp:
        write_xlsx(
            frame, tmp, title=f"Ennakko · {manifest.get('area', '')}",
            as_of=ctx.as_of.fromisoformat(manifest["as_of"]),
            model_version=str(manifest.get("model", {}).get("version", "")), team=team,
        )  # fmt: skip
    for name in list(manifest["files"]):
        manifest["files"][name] = sha256_file(folder / name)
    teams = manifest.get("teams", {})
    if team in teams:
        teams[team]["rows"] = frame.height
    manifest["rows"] = sum(t["rows"] for t in teams.values())
    manifest["erasures_applied"] = manifest.get("erasures_applied", 0) + 1
    ctx.ws.write_text(
        manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    )


def run_erasure(ctx: RunContext, person_id: str, reason: str | None) -> ErasureReport:
    """Erase one person and record it in the audit log by keyed hash only."""

    def mark(snapshots: list[str]) -> list[str]:
        registry = registry_for(ctx)
        name = ctx.settings.model.registered_name
        marked = []
        for stem in snapshots:
            version = stem.removeprefix(f"{name}-v")
            if version.isdigit():
                registry.tag_version(version, "erasure_pending", "true")
                registry.tag_version(
                    version, "erasure_note", "trained with a person since erased; retrain"
                )
                marked.append(version)
        return marked

    report = erase(
        ctx.ws,
        person_id,
        audit_key=ctx.keys.audit,
        pseudonym_key=ctx.keys.pseudonym,
        when=ctx.today,
        reason=reason,
        rewrite_workbook=lambda path: rewrite_list_files(ctx, path),
        mark_versions=mark,
    )
    audit.append(
        ctx.ws.path("audit", "audit.jsonl"),
        {
            "event": "erasure",
            "run_id": ctx.run_id,
            "at": ctx.notes.get("started_at"),
            "person_hash": report.person_hash,
            "reason": reason or "",
            "files_rewritten": report.files_rewritten,
            "rows_removed": report.rows_removed,
            "model_versions_marked": report.model_versions_marked,
            "traces_left": len(report.traces_left),
        },
        ctx.ws.file_mode,
    )
    return report
