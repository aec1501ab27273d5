"""Commands that make things: a synthetic city, a nightly run, a trained model, schedules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from flows.commands import progress
from flows.commands.common import (
    DEFAULT_CONFIG,
    AsJson,
    AsOf,
    Config,
    ExecutorKind,
    Scale,
    emit_json,
    load,
    load_dated,
    out,
    prepare,
    stdout_to_stderr,
    user_errors,
)


@user_errors
def synth(
    scale: Annotated[
        Scale, typer.Option(help="demo (5,000 persons), helsinki (130,000), finland (1,000,000)")
    ] = Scale.demo,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same city.")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the city into.")] = Path(
        "var/demo/city"
    ),
) -> None:
    """Generate a synthetic city in the layout of the data contracts."""
    from synth import generate_city, spec_for_scale

    name = Scale(scale).value
    spec = spec_for_scale(name, seed)
    label = f"Generating the {name} city ({spec.n_persons:,} persons)"
    with progress.bar(label, progress.wanted()):
        summary = generate_city(spec, out_dir)
    out.print(
        f"Wrote {summary['n_persons']:,} persons and {summary['events']:,} events to {out_dir}"
    )


@user_errors
def run(
    config: Config = DEFAULT_CONFIG,
    as_of: AsOf = None,
    executor: Annotated[
        ExecutorKind | None,
        typer.Option(help="local, or dask: area partitions on Dask workers (default: config)."),
    ] = None,
    address: Annotated[
        str | None, typer.Option(help="Dask scheduler (tcp://host:8786); default: a local cluster.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Run the nightly job once: validate, gate, features, score, publish lists."""
    settings, _ = load_dated(config, as_of)
    prepare(settings, flow=True)
    from flows.nightly import nightly

    kind = ExecutorKind(executor).value if executor else settings.executor.kind
    flow = nightly
    if kind == "dask":
        from flows.executors import dask_runner

        flow = nightly.with_options(task_runner=dask_runner(settings.executor, address))
    with stdout_to_stderr(as_json):
        summary = flow(config=str(settings.config_path), as_of=as_of, executor=kind)
    if as_json:
        emit_json(summary)
    else:
        report_run(summary, settings)


@user_errors
def train(config: Config = DEFAULT_CONFIG, as_of: AsOf = None, as_json: AsJson = False) -> None:
    """Train and evaluate a model on temporal folds; register it, promote if the gate allows."""
    settings, _ = load_dated(config, as_of)
    prepare(settings, flow=True)
    from flows.training import train as train_flow

    shown = progress.wanted(as_json)
    with (
        stdout_to_stderr(as_json),
        progress.bar("Training", shown) as bar,
        progress.following_tasks(bar, shown),
    ):
        result = train_flow(config=str(settings.config_path), as_of=as_of)
    if as_json:
        emit_json(result)
        return
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


@user_errors
def demo(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="The demo's configuration (not $ENNAKKO_CONFIG).")
    ] = DEFAULT_CONFIG,
    seed: int = 1,
) -> None:
    """Synthesise the demo city if it is missing (or made by an older generator), then run
    the whole nightly job on it."""
    from flows.settings import load_settings
    from synth.city import GENERATOR_VERSION

    settings = load_settings(config)
    made = settings.data_dir / "city.json"
    current = f'"ennakko-synth {GENERATOR_VERSION}"'
    if not made.exists() or current not in made.read_text():
        synth(scale=Scale.demo, seed=seed, out_dir=settings.data_dir)
    run(config=config, as_of=None)


@user_errors
def serve(config: Config = DEFAULT_CONFIG) -> None:
    """Run the nightly, monthly-training and daily-retention schedules from this process.

    Needs a Prefect server (PREFECT_API_URL, or `prefect.api_url` in the configuration):
    schedules do nothing on Prefect's ephemeral API. See docs/runbook.md.
    """
    import os

    from features.errors import SourceError

    settings = prepare(load(config), flow=True)
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


def report_run(summary: dict[str, Any], settings) -> None:
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
