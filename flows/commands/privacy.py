"""Commands for the data-protection officer: erase, retention, the audit log, the record.

None of them imports Prefect or MLflow (``audit verify --mlflow`` aside): they answer in
a second or two on the demo (``ennakko bench --commands``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flows.commands.common import (
    DEFAULT_CONFIG,
    AsJson,
    Config,
    console,
    emit_json,
    load,
    out,
    prepare,
    user_errors,
)

if TYPE_CHECKING:
    from flows.settings import Settings


@user_errors
def erase(
    person_id: Annotated[
        str, typer.Option("--person-id", help="The pseudonym to erase.", prompt=False)
    ],
    config: Config = DEFAULT_CONFIG,
    reason: Annotated[str | None, typer.Option(help="Why (no names or identifiers here).")] = None,
) -> None:
    """Erase a person from every derived store; record it by keyed hash only."""
    from flows.context import exclusive, start
    from flows.erasure import run_erasure

    settings = prepare(load(config))
    ctx = start(str(config), None, "erase", settings=settings)
    with exclusive(ctx):
        report = run_erasure(ctx, person_id, reason)
    out.print(f"Erased: {report.rows_removed} rows in {len(report.files_rewritten)} files.")
    if not report.rows_removed and not report.model_versions_marked:
        console.print(
            "[yellow]No derived store held this pseudonym: check it for a typo. The request is "
            "recorded all the same, and later runs will keep the person out.[/]"
        )
    for name in report.files_rewritten:
        out.print(f"  rewrote {name}", highlight=False, soft_wrap=True)
    if report.model_versions_marked:
        out.print(
            f"Model versions trained with the person, tagged erasure_pending: {', '.join(report.model_versions_marked)}"
        )
    out.print(f"Audit log entry holds only the keyed hash {report.person_hash[:12]}…")
    out.print(
        "Later runs exclude the person even while partners' extracts still hold their rows; "
        f"ask the partners to delete them from their extracts in {settings.data_dir}."
    )
    if report.traces_left:
        console.print(f"[bold red]Traces left in {len(report.traces_left)} files:[/]")
        for name in report.traces_left:
            console.print(f"  {name}", highlight=False)
        raise typer.Exit(1)


@user_errors
def retention(config: Config = DEFAULT_CONFIG) -> None:
    """Delete what each store (and the log's rotated files) has kept longer than its
    retention period; report it."""
    from flows.context import exclusive, now_in, start
    from flows.retention import run_retention

    settings = prepare(load(config))
    ctx = start(str(config), None, "retention", settings=settings)
    with exclusive(ctx):
        report = run_retention(ctx, now_in(settings))
    for store, items in report.deleted.items():
        out.print(f"{store:<11} {len(items):>5} deleted (kept {report.kept_days[store]} days)")
        for item in items:
            out.print(f"    {item}", highlight=False, style="dim")
    out.print(
        f"reviews     {report.review_rows_deleted:>5} decision and hold-out rows deleted (kept {settings.retention.reviews} days)"
    )


@user_errors
def audit_verify(
    config: Config = DEFAULT_CONFIG,
    mlflow: Annotated[
        bool,
        typer.Option(
            "--mlflow",
            help="Also check the heads recorded in MLflow runs (imports MLflow: slower).",
        ),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Check the audit log's keyed chain, and that it still holds every head the published
    manifests (and, with --mlflow, MLflow runs) recorded; name the first broken entry."""
    from features.errors import SourceError
    from flows.audit import RUNBOOK, AuditLog, heads_in_manifests, log_path, read_key

    settings = load(config)
    path = log_path(settings.workspace)
    secret = settings.privacy.audit_key
    key_file = settings.workspace / "privacy" / "audit.key"
    key = read_key(secret.get_secret_value() if secret else None, key_file)
    heads = heads_in_manifests(settings.workspace / "lists")
    witnesses = "the published manifests"
    if mlflow:
        witnesses += " and MLflow runs"
        heads += _heads_in_mlflow(settings)
    if key is None and (heads or (path.exists() and path.stat().st_size)):
        raise SourceError(
            source=str(path),
            message="there is no audit key to check it with: ENNAKKO_AUDIT_KEY is not set "
            f"and {key_file} does not exist.",
            hint="Set ENNAKKO_AUDIT_KEY to the key the log was written with, or restore the "
            f"key file from the workspace backup. See {RUNBOOK}.",
        )
    result = AuditLog(path, key or b"").verify(heads)
    if as_json:
        emit_json(
            {
                "path": str(path),
                "ok": result.ok,
                "entries": result.entries,
                "head": result.head.as_dict() if result.head else None,
                "heads_checked": result.heads_checked,
                "broken_at": result.broken_at,
                "problem": result.problem,
            }
        )
    elif result.ok:
        head = f"head: entry {result.head.seq}, {result.head.hash}" if result.head else "no head"
        out.print(
            f"{path}: {result.entries} entries, chain intact ({head}); "
            f"{result.heads_checked} heads recorded by {witnesses} found in it.",
            highlight=False,
            soft_wrap=True,
        )
    else:
        where = f"line {result.broken_at}" if result.broken_at else "the log"
        console.print(
            f"[bold red]{path}: broken at {where}: {result.problem}.[/] "
            f"{result.entries} entries before it hold. See {RUNBOOK}.",
            highlight=False,
            soft_wrap=True,
        )
    if not result.ok:
        raise typer.Exit(1)


def _heads_in_mlflow(settings: Settings) -> list:
    """The audit heads MLflow runs recorded; a damaged or unreachable store is named."""
    from features.errors import SourceError
    from flows.audit import heads_in_mlflow
    from flows.settings import shown_uri

    uri = settings.mlflow_uri
    heads = []
    for experiment in (settings.mlflow.experiment, f"{settings.mlflow.experiment}-nightly"):
        try:
            heads += heads_in_mlflow(uri, experiment)
        except SourceError:
            raise
        except Exception as exc:  # a damaged or unreachable store: say so, no traceback
            raise SourceError(
                source=shown_uri(uri),
                message=f"the MLflow store could not be read ({type(exc).__name__}).",
                hint="Check the store, or verify without --mlflow.",
            ) from None
    return heads


@user_errors
def privacy_report(
    config: Config = DEFAULT_CONFIG,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Markdown file (default: <workspace>/reports/privacy-report.md)."
        ),
    ] = None,
) -> None:
    """Write the record of processing for the data-protection officer (Markdown); exit 1
    when anyone on the newest lists was scored or listed without a valid consent."""
    from rich.markup import escape

    from flows import clock
    from flows.audit import read_key
    from flows.privacy_report import privacy_report as make_report
    from flows.runtime import configure

    # No Prefect, no MLflow: only the settings, the workspace and the consent register.
    settings = load(config)
    ws = configure(settings)
    now = clock.now(settings.timezone)
    audit_secret = settings.privacy.audit_key
    pseudonym = settings.privacy.pseudonym_key
    record = make_report(
        settings, ws, now, _consents(settings, max(now.date(), settings.as_of or now.date())),
        audit_key=read_key(audit_secret.get_secret_value() if audit_secret else None,
                           ws.path("privacy", "audit.key")),
        pseudonym_key=pseudonym.get_secret_value().encode() if pseudonym else None,
    )  # fmt: skip
    target = (out_path or ws.path("reports", "privacy-report.md")).resolve()
    ws.write_text(target, record.text)
    out.print(escape(record.headline), highlight=False, soft_wrap=True,
              style="bold red" if record.violations else None)  # fmt: skip
    out.print(f"Wrote {target}", highlight=False, soft_wrap=True)
    if record.violations:
        raise typer.Exit(1)


def _consents(settings: Settings, today):
    """The consent register's good rows, or None (said on stderr) when it cannot be read."""
    from rich.markup import escape

    from features.contracts import Context
    from features.errors import SourceError
    from features.sources import load_source

    try:
        result, _ = load_source(
            settings.data_dir, "consents", settings.sources.consents,
            Context(today, tuple(settings.partners)),
        )  # fmt: skip
    except SourceError as exc:
        console.print(
            f"[yellow]The consent register could not be read ({escape(exc.describe())}); "
            "the counts that need it are left out.[/]",
            highlight=False,
            soft_wrap=True,
        )
        return None
    return result.good
