"""The ``ennakko`` command line: a thin layer that parses, calls the flows, and reports.

Heavy libraries are imported inside the commands so that ``ennakko --help`` answers at
once. A user's mistake (bad configuration, a broken extract) ends in one clear paragraph
and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

app = typer.Typer(
    name="ennakko",
    help="Consent-based early-warning lists for youth employment services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
indicators_app = typer.Typer(help="Aggregate indicator files.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
privacy_app = typer.Typer(help="Records for the data-protection officer.", no_args_is_help=True)
reviews_app = typer.Typer(help="Counsellors' decisions coming back.", no_args_is_help=True)
app.add_typer(indicators_app, name="indicators")
app.add_typer(audit_app, name="audit")
app.add_typer(privacy_app, name="privacy")
app.add_typer(reviews_app, name="reviews")

console = Console(stderr=True)
out = Console()
F = TypeVar("F", bound=Callable[..., Any])

Config = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        envvar="ENNAKKO_CONFIG",
        show_default="$ENNAKKO_CONFIG, else the demo's configs/demo.yaml",
        help="YAML configuration file.",
    ),
]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="As-of date YYYY-MM-DD (default: config, then today).")
]
# Without --config or ENNAKKO_CONFIG every command works on the demo (make demo), from
# any folder: the embedded default. Production passes its own file.
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"


def user_errors(func: F) -> F:
    """Turn a SourceError (bad input or configuration) into a paragraph and exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from features.errors import SourceError

        try:
            return func(*args, **kwargs)
        except SourceError as exc:
            from rich.markup import escape

            console.print(
                f"[bold red]Error:[/] {escape(exc.describe())}", highlight=False, soft_wrap=True
            )
            console.print(
                "Nothing was written: the published lists and stores are as they were.", style="dim"
            )
            raise typer.Exit(getattr(exc, "exit_code", 2)) from None

    return wrapper  # type: ignore[return-value]


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from features.errors import SourceError

        raise SourceError(
            "--as-of", f"{value!r} is not a valid date: write it as YYYY-MM-DD, e.g. 2025-12-01."
        ) from None


def _prepare(config: Path, *, flow: bool = False):
    """Settings and process environment for a command (before Prefect is imported).

    Only commands that run a Prefect flow (``flow=True``) import Prefect: the others
    answer in a second or two without it.
    """
    from flows.runtime import configure
    from flows.settings import load_settings

    settings = load_settings(config)
    configure(settings)
    if flow:
        from flows.logs import quiet_user_errors

        quiet_user_errors()
    return settings


@app.command()
@user_errors
def synth(
    scale: Annotated[
        str, typer.Option(help="demo (5,000), helsinki (130,000) or finland (1,000,000)")
    ] = "demo",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same city.")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the city into.")] = Path(
        "var/demo/city"
    ),
) -> None:
    """Generate a synthetic city in the layout of the data contracts."""
    from synth import generate_city, spec_for_scale

    try:
        spec = spec_for_scale(scale, seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scale") from None
    with console.status(f"Generating the {scale} city ({spec.n_persons:,} persons)…"):
        summary = generate_city(spec, out_dir)
    out.print(
        f"Wrote {summary['n_persons']:,} persons and {summary['events']:,} events to {out_dir}"
    )


@app.command()
@user_errors
def run(
    config: Config = DEFAULT_CONFIG,
    as_of: AsOf = None,
    executor: Annotated[
        str | None, typer.Option(help="local, or dask: area partitions on Dask workers.")
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="Dask scheduler (tcp://host:8786); default: a local cluster.")
    ] = None,
) -> None:
    """Run the nightly job once: validate, gate, features, score, publish lists."""
    settings = _prepare(config, flow=True)
    from flows.nightly import nightly

    _date(as_of)
    kind = executor or settings.executor.kind
    if kind not in ("local", "dask"):
        raise typer.BadParameter("choose local or dask", param_hint="--executor")
    flow = nightly
    if kind == "dask":
        from flows.executors import dask_runner

        flow = nightly.with_options(task_runner=dask_runner(settings.executor, address))
    summary = flow(config=str(settings.config_path), as_of=as_of, executor=kind)
    _report_run(summary, settings)


@app.command()
@user_errors
def train(config: Config = DEFAULT_CONFIG, as_of: AsOf = None) -> None:
    """Train and evaluate a model on temporal folds; register it, promote if the gate allows."""
    settings = _prepare(config, flow=True)
    from flows.training import train as train_flow

    _date(as_of)
    result = train_flow(config=str(settings.config_path), as_of=as_of)
    m = result["metrics"]
    out.print(f"Model version {result['version']}: {result['decision']}")
    out.print(
        f"Pooled ROC AUC {m.get('pooled_roc_auc', float('nan')):.3f}"
        + (f", oracle {m['oracle_roc_auc']:.3f}" if "oracle_roc_auc" in m else "")
        + (
            f", challenger {m['challenger_pooled_roc_auc']:.3f}"
            if "challenger_pooled_roc_auc" in m
            else ""
        )
    )
    out.print(f"Report: {result['report_uri']}", soft_wrap=True, highlight=False)
    out.print(
        f"In MLflow: make mlflow-ui, then http://127.0.0.1:5000{result['ui_path']}",
        soft_wrap=True,
        highlight=False,
    )


@app.command()
@user_errors
def demo(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="The demo's configuration (not $ENNAKKO_CONFIG).")
    ] = DEFAULT_CONFIG,
    seed: int = 1,
) -> None:
    """Synthesise the demo city if it is missing, then run the whole nightly job on it."""
    from flows.settings import load_settings

    settings = load_settings(config)
    if not (settings.data_dir / "city.json").exists():
        synth(scale="demo", seed=seed, out_dir=settings.data_dir)
    run(config=config, as_of=None)


@app.command()
@user_errors
def validate(config: Config = DEFAULT_CONFIG, as_of: AsOf = None) -> None:
    """Check every source against its contract and its age on the as-of date; exit 1 if a
    run would stop (a source fails, or too many listed persons would rest on stale data)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from rich.markup import escape
    from rich.table import Table

    from flows.settings import as_of_or_today, load_settings
    from flows.validation import validate_all

    settings = load_settings(config)
    # The clock as flows.context.now_in reads it, without importing the run machinery.
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    day = as_of_or_today(settings, _date(as_of), today)
    result = validate_all(settings, today, day)
    table = Table(title=escape(f"Sources in {settings.data_dir}"))
    for column in ("source", "rows", "refused", "duplicates", "policy", "verdict"):
        table.add_column(
            column, justify="right" if column in ("rows", "refused", "duplicates") else "left"
        )
    colours = {"ok": "green", "quarantine": "yellow", "fail": "bold red"}
    for r in result.reports:
        table.add_row(escape(r.source), f"{r.rows:,}", f"{r.refused:,}", f"{r.duplicates:,}",
                      r.policy, f"[{colours[r.verdict]}]{r.verdict}[/]")  # fmt: skip
    out.print(table)
    ages = Table(title=f"Age of the data on {day.isoformat()}")
    for column in ("source", "newest row", "days old", "allowed", "age"):
        ages.add_column(column, justify="right" if column in ("days old", "allowed") else "left")
    for r in result.reports:
        if r.newest is None and r.age is None:
            continue  # undated (contacts, indicators) or unread (its error is below)
        days = (day - r.newest).days if r.newest else None
        allowed = str(r.age.max_age_days) if r.age else ""
        verdict = "" if r.age is None else "[bold yellow]stale[/]" if r.stale else "[green]fresh[/]"
        ages.add_row(escape(r.source), r.newest.isoformat() if r.newest else "none",
                     "" if days is None else f"{days:,}", allowed, verdict)  # fmt: skip
    out.print(ages)
    for r in result.reports:
        for reason, n in r.reasons.items():
            rows = "row" if n == 1 else "rows"
            out.print(
                f"  {r.source}: {n:,} {rows} refused: {reason}", markup=False, highlight=False
            )
        for warning in r.warnings:
            out.print(f"  {r.source}: warning: {warning}", style="yellow", markup=False,
                      highlight=False)  # fmt: skip
        if r.stale and r.age is not None:
            out.print(f"  stale: {r.age.describe()}", style="yellow", markup=False,
                      highlight=False, soft_wrap=True)  # fmt: skip
        if r.error:
            console.print(f"[bold red]Error:[/] {escape(r.error)}", highlight=False, soft_wrap=True)
    share = result.stale_share
    if result.stale and share is not None:
        out.print(
            f"Stale data: {result.covered_by_stale:,} of the {result.may_be_listed:,} persons "
            f"who may be listed on {day.isoformat()} ({share:.0%}) consented to a stale source, "
            "and would be flagged stale_data if listed. A run stops when more than "
            f"{result.limit:.0%} of its listed persons are (outreach.max_stale_share)"
            + (": this one likely would." if result.stale_stops else ": this one would go on."),
            style="bold red" if result.stale_stops else "yellow",
            highlight=False,
            soft_wrap=True,
        )
    failed = result.failed
    if failed:
        console.print(
            f"{len(failed)} source(s) would stop a run: {escape(', '.join(failed))}.",
            highlight=False,
            soft_wrap=True,
        )
    if result.stale_stops:
        console.print(
            "Stale data would stop a run: ask the partners for fresh extracts, or choose an "
            "earlier --as-of.",
            highlight=False,
            soft_wrap=True,
        )
    if failed or result.stale_stops:
        raise typer.Exit(1)


@indicators_app.command("convert")
@user_errors
def indicators_convert(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Indicator files: Paavo or PxWeb CSV, PC-Axis .px, JSON-stat, long CSV/Parquet."
        ),
    ],
    out_path: Annotated[Path, typer.Option("--out", help="Long-form Parquet to write.")],
) -> None:
    """Convert indicator files to the long form area_code, area_level, period, indicator, value."""
    from indicators import convert

    summary = convert(files, out_path)
    for report in summary.files:
        out.print(
            f"{report.source}: {report.rows:,} rows ({report.kind}), {report.dropped_missing:,} missing cells dropped"
        )
    out.print(f"Wrote {summary.rows:,} rows to {summary.out_path}")


@app.command()
@user_errors
def folds(config: Config = DEFAULT_CONFIG, as_of: AsOf = None) -> None:
    """Print the rolling temporal folds a training run on this date would use."""
    from rich.table import Table

    from features.folds import final_training_dates, temporal_folds
    from flows import pipeline
    from flows.context import start

    settings = _prepare(config)
    ctx = start(str(config), _date(as_of), "folds", settings=settings)
    inputs = pipeline.validate_sources(ctx)
    dates = pipeline.training_dates(ctx, inputs)
    table = Table(title=f"Temporal folds (horizon {settings.labels.horizon_days} days)")
    for column in ("fold", "train from", "train to", "train dates", "test as-of"):
        table.add_column(column)
    for f in temporal_folds(dates, settings.labels.horizon_days, settings.folds):
        table.add_row(
            str(f.number),
            f.train[0].isoformat(),
            f.train[-1].isoformat(),
            str(len(f.train)),
            f.test.isoformat(),
        )
    final = final_training_dates(dates, settings.folds)
    table.add_row(
        "final", final[0].isoformat(), final[-1].isoformat(), str(len(final)), "(production model)"
    )
    out.print(table)


@app.command()
@user_errors
def features(
    config: Config = DEFAULT_CONFIG,
    as_of: AsOf = None,
    out_path: Annotated[
        Path, typer.Option("--out", help="Parquet file of the feature matrix.")
    ] = Path("features.parquet"),
) -> None:
    """Write the feature matrix of everyone in scope on the as-of date (sensitive columns aside)."""
    from flows import pipeline
    from flows.context import exclusive, start

    settings = _prepare(config)
    ctx = start(str(config), _date(as_of), "features", settings=settings)
    with exclusive(ctx):  # it writes the feature cache, which an erasure must reach
        matrix = pipeline.cached_features(ctx)
    ctx.ws.write_parquet(out_path.resolve(), matrix.frame)
    aside = out_path.with_name(out_path.stem + ".aside.parquet")
    ctx.ws.write_parquet(aside.resolve(), matrix.aside)
    out.print(f"Wrote {matrix.frame.height:,} rows × {len(matrix.names)} features to {out_path}")
    out.print(f"Sensitive and audit attributes (never model inputs): {aside}")


@app.command()
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

    settings = _prepare(config)
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


@app.command()
@user_errors
def retention(config: Config = DEFAULT_CONFIG) -> None:
    """Delete what each store has kept longer than its retention period; report it."""
    from flows.context import exclusive, now_in, start
    from flows.retention import run_retention

    settings = _prepare(config)
    ctx = start(str(config), None, "retention", settings=settings)
    with exclusive(ctx):
        report = run_retention(ctx, now_in(settings))
    for store, items in report.deleted.items():
        out.print(
            f"{store:<11} {len(items):>5} deleted (kept {getattr(settings.retention, store)} days)"
        )
        for item in items:
            out.print(f"    {item}", highlight=False, style="dim")
    out.print(
        f"reviews     {report.review_rows_deleted:>5} decision and hold-out rows deleted (kept {settings.retention.reviews} days)"
    )


@audit_app.command("verify")
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check the audit log's keyed chain, and that it still holds every head the published
    manifests (and, with --mlflow, MLflow runs) recorded; name the first broken entry."""
    import json

    from features.errors import SourceError
    from flows.audit import RUNBOOK, AuditLog, heads_in_manifests, heads_in_mlflow, read_key
    from flows.settings import load_settings, shown_uri

    settings = load_settings(config)
    path = settings.workspace / "audit" / "audit.jsonl"
    secret = settings.privacy.audit_key
    key_file = settings.workspace / "privacy" / "audit.key"
    key = read_key(secret.get_secret_value() if secret else None, key_file)
    heads = heads_in_manifests(settings.workspace / "lists")
    witnesses = "the published manifests"
    if mlflow:
        witnesses += " and MLflow runs"
        uri = settings.mlflow_uri
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
        out.print_json(
            json.dumps(
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


@privacy_app.command("report")
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
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from rich.markup import escape

    from features.contracts import Context
    from features.errors import SourceError
    from features.sources import load_source
    from flows.audit import read_key
    from flows.privacy_report import privacy_report as make_report
    from flows.runtime import configure
    from flows.settings import load_settings

    # No Prefect, no MLflow: only the settings, the workspace and the consent register.
    settings = load_settings(config)
    ws = configure(settings)
    now = datetime.now(ZoneInfo(settings.timezone))
    today = max(now.date(), settings.as_of or now.date())
    try:
        result, _ = load_source(
            settings.data_dir,
            "consents",
            settings.sources.consents,
            Context(today, tuple(settings.partners)),
        )
        consents = result.good
    except SourceError as exc:
        console.print(
            f"[yellow]The consent register could not be read ({escape(exc.describe())}); "
            "the counts that need it are left out.[/]",
            highlight=False,
            soft_wrap=True,
        )
        consents = None
    audit_secret = settings.privacy.audit_key
    pseudonym = settings.privacy.pseudonym_key
    record = make_report(
        settings, ws, now, consents,
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


@app.command()
@user_errors
def bench(
    scale: Annotated[str, typer.Option(help="demo, helsinki or finland")] = "helsinki",
    train: Annotated[
        bool, typer.Option("--train", help="Also time training (all folds, challenger, report).")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    seed: int = 1,
    root: Annotated[Path, typer.Option(help="Where cities and workspaces are cached.")] = Path(
        "var/bench"
    ),
    commands: Annotated[
        bool,
        typer.Option(
            "--commands",
            help="Instead: how long each non-flow command takes to answer on the demo.",
        ),
    ] = False,
) -> None:
    """Wall time and peak memory of every nightly stage on a cached synthetic city."""
    if commands:
        _bench_commands(root, json_out)
        return
    from rich.table import Table

    from flows.bench import NIGHTLY, run_bench
    from flows.logs import quiet_user_errors

    if scale not in ("demo", "helsinki", "finland"):
        raise typer.BadParameter("choose demo, helsinki or finland", param_hint="--scale")
    quiet_user_errors()

    def report(stage) -> None:
        if not json_out:
            console.print(
                f"  {stage.name:<28} {stage.seconds:8.2f} s   peak {stage.peak_rss_mb:8,.0f} MB",
                highlight=False,
            )

    result = run_bench(scale, seed=seed, root=root, train=train, report=report,
                       say=(lambda m: None) if json_out else (lambda m: console.print(m, style="dim")))  # fmt: skip
    if json_out:
        out.print_json(data=result.as_dict())
        return
    table = Table(
        title=f"ennakko bench --scale {scale}: {result.persons:,} persons, {result.events:,} events"
    )
    for column in ("stage", "wall (s)", "peak RSS (MB)", "rows"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for s in result.stages:
        table.add_row(
            s.name,
            f"{s.seconds:.2f}",
            f"{s.peak_rss_mb:,.0f}",
            f"{s.rows:,}" if s.rows is not None else "",
        )
    table.add_row(
        "[bold]nightly total[/]",
        f"[bold]{result.total_seconds:.2f}[/]",
        f"[bold]{result.peak_rss_mb:,.0f}[/]",
        "",
    )
    out.print(table)
    out.print(f"Stages in the nightly total: {', '.join(NIGHTLY)} (no Prefect or MLflow start-up).")
    for k, v in result.notes.get("training", {}).items():
        out.print(f"  {k}: {v}")
    out.print(f"Saved to {root / scale / 'bench.json'}")


def _bench_commands(root: Path, json_out: bool) -> None:
    from dataclasses import asdict

    from rich.table import Table

    from flows.bench_commands import bench_commands
    from flows.settings import load_settings

    settings = load_settings(DEFAULT_CONFIG, env={})
    results = bench_commands(settings.workspace, DEFAULT_CONFIG, root, report=lambda r: None)
    if json_out:
        out.print_json(data=[asdict(r) for r in results])
        return
    table = Table(title="ennakko bench --commands: each command as its own process, on the demo")
    for column in ("command", "wall (s)", "peak RSS (MB)", "exit"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for r in results:
        colour = "green" if r.seconds < 2 else "yellow"
        table.add_row(r.command, f"[{colour}]{r.seconds:.2f}[/]", f"{r.peak_rss_mb:,.0f}",
                      str(r.exit_code))  # fmt: skip
    out.print(table)


@reviews_app.command("import")
@user_errors
def reviews_import(
    files: Annotated[
        list[Path], typer.Argument(help="Returned lists: the XLSX or CSV files as filled in.")
    ],
    config: Config = DEFAULT_CONFIG,
    counsellor: Annotated[
        str | None, typer.Option(help="Counsellor for rows that name none.")
    ] = None,
) -> None:
    """Import counsellors' decisions; they feed cool-downs and 'declined before' flags.

    A list may be returned again as more rows are decided: new decisions are added,
    unchanged ones skipped, changed ones recorded as corrections. Every mistake in a file
    is listed in one table.
    """
    from flows.context import exclusive, start
    from flows.reviews import import_files
    from outreach.reviews import problem_table

    settings = _prepare(config)
    ctx = start(str(config), None, "reviews-import", settings=settings)
    with exclusive(ctx):
        imported = import_files(ctx, files, counsellor)
    for path, result in imported:
        overrides = int(result.decisions["override"].sum()) if result.decisions.height else 0
        out.print(
            f"{path.name}: {result.decisions.height} decisions ({overrides} overrides), "
            f"{result.corrections} corrections, {result.unchanged} unchanged, "
            f"{result.undecided} rows still undecided",
            highlight=False,
            soft_wrap=True,
        )
        for warning in result.warnings:
            out.print(f"  warning: {warning}", style="yellow", highlight=False, soft_wrap=True)
        if result.problems.height:
            out.print(
                problem_table(result.problems),
                style="yellow", highlight=False, markup=False, soft_wrap=True,
            )  # fmt: skip


@reviews_app.command("report")
@user_errors
def reviews_report(
    config: Config = DEFAULT_CONFIG,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="Markdown file (default: <workspace>/reports/reviews.md)."),
    ] = None,
) -> None:
    """Decisions, overrides and outcomes per team and risk band; how often counsellors disagree."""
    import polars as pl

    from features.contracts import Context
    from features.sources import load_source
    from flows.context import start
    from flows.reviews import report_tables

    settings = _prepare(config)
    ctx = start(str(config), None, "reviews", settings=settings)
    outcomes, _ = load_source(
        settings.data_dir,
        "outcomes",
        settings.sources.outcomes,
        Context(ctx.today, tuple(settings.partners)),
    )
    tables = report_tables(ctx, outcomes.good)
    if not tables:
        out.print("No decisions imported yet.")
        return
    lines = [f"# Decisions on the outreach lists ({settings.area_name}, {ctx.today})", ""]
    from rich.table import Table

    for name, table in tables.items():
        shown = Table(title=name.replace("_", " "))
        for column in table.columns:
            shown.add_column(
                column.replace("_", " "),
                justify="left" if table.schema[column] == pl.String else "right",
                overflow="fold",
            )
        for row in table.iter_rows():
            shown.add_row(
                *("" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in row)
            )
        out.print(shown)
        lines += [f"## {name.replace('_', ' ')}", "", _markdown_table(table), ""]
    notes = (
        f"Blank cells: a count of fewer than {settings.privacy.min_cell_size} persons, or a "
        "share or rate whose numerator or denominator is that small, suppressed "
        "(privacy.min_cell_size). Only the latest decision per person and list counts; "
        "corrections: how many of them replaced an earlier decision. Disagreement: a row "
        "marked 'not appropriate', or a person a counsellor added. Registration shares by "
        "decision describe, they do not prove that outreach helps (counsellors choose whom to contact); the hold-out table, when "
        "outreach.holdout_share is on, compares randomly held-out persons of the capacity "
        "margin with the not-held-out: see 'The hold-out' in docs/runbook.md."
    )
    out.print(notes, highlight=False)
    lines.append(notes)
    target = (out_path or ctx.ws.path("reports", "reviews.md")).resolve()
    ctx.ws.write_text(target, "\n".join(lines) + "\n")
    out.print(f"Wrote {target}")


def _markdown_table(table) -> str:
    head = "| " + " | ".join(table.columns) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    body = [
        "| "
        + " | ".join(
            "" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v)) for v in row
        )
        + " |"
        for row in table.iter_rows()
    ]
    return "\n".join([head, rule, *body])


@app.command()
@user_errors
def serve(config: Config = DEFAULT_CONFIG) -> None:
    """Run the nightly, monthly-training and daily-retention schedules from this process.

    Needs a Prefect server (PREFECT_API_URL, or `prefect.api_url` in the configuration):
    schedules do nothing on Prefect's ephemeral API. See docs/runbook.md.
    """
    import os

    from features.errors import SourceError

    settings = _prepare(config, flow=True)
    if not os.environ.get("PREFECT_API_URL"):
        raise SourceError(
            str(settings.config_path),
            "`ennakko serve` needs a Prefect server: schedules do nothing on the ephemeral API.",
            column="prefect.api_url",
            label="Key",
            hint="Start one with `prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api.",
        )
    from prefect import serve as prefect_serve

    from flows.deployments import deployments

    prefect_serve(*deployments(str(settings.config_path), settings.executor))


def _report_run(summary: dict[str, Any], settings) -> None:
    """What a run published, with paths printed whole (copy-pasteable, never wrapped)."""

    def say(text: str) -> None:
        out.print(text, soft_wrap=True, highlight=False)

    out.print()
    say(f"[bold green]Lists for {summary['as_of']}[/] → {summary['lists']}")
    for team, rows in summary["teams"].items():
        say(f"  {team:<12} {rows:>4} rows")
    say(f"Manifest: {Path(summary['lists']) / 'manifest.json'}")
    if summary.get("trained"):
        t = summary["trained"]
        say(f"Trained model version {t['version']}: {t['decision']}")
        say(f"Training report: {t['report_uri']}")
    from flows.settings import shown_uri

    say(f"MLflow store: {shown_uri(settings.mlflow_uri)}")
    where = (summary.get("trained") or {}).get(
        "ui_path"
    ) or "/#/experiments?workflowType=machine_learning"
    say(f"Open the MLflow UI: make mlflow-ui, then http://127.0.0.1:5000{where}")
    if summary.get("drift_alert"):
        say("[yellow]Drift alert: every row is flagged; see the nightly run in MLflow.[/]")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        console.print("Interrupted; nothing was published.")
        sys.exit(130)


if __name__ == "__main__":
    main()
