"""The ``ennakko`` command line: a thin layer that parses, calls the flows, and reports.

Heavy libraries are imported inside the commands so that ``ennakko --help`` answers at
once. A user's mistake (bad configuration, a broken extract) ends in one clear paragraph
and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
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

Config = Annotated[Path, typer.Option("--config", "-c", help="YAML configuration file.")]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="As-of date YYYY-MM-DD (default: config, then today).")
]
DEFAULT_CONFIG = Path("configs/default.yaml")


def user_errors(func: F) -> F:
    """Turn a SourceError (bad input or configuration) into a paragraph and exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from features.errors import SourceError

        try:
            return func(*args, **kwargs)
        except SourceError as exc:
            console.print(f"[bold red]Error:[/] {exc.describe()}", highlight=False, soft_wrap=True)
            console.print("Nothing was published; the previous lists are unchanged.", style="dim")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from features.errors import SourceError

        raise SourceError("--as-of", f"{value!r} is not a date in the form YYYY-MM-DD.") from None


def _prepare(config: Path):
    """Settings and process environment for a command (before Prefect is imported)."""
    from flows.runtime import configure
    from flows.settings import load_settings

    settings = load_settings(config)
    configure(settings)
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
    from features.synth import generate_city, spec_for_scale

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
def run(config: Config = DEFAULT_CONFIG, as_of: AsOf = None) -> None:
    """Run the nightly job once: validate, gate, features, score, publish lists."""
    settings = _prepare(config)
    from flows.nightly import nightly

    _date(as_of)
    summary = nightly(config=str(settings.config_path), as_of=as_of)
    _report_run(summary, settings)


@app.command()
@user_errors
def train(config: Config = DEFAULT_CONFIG, as_of: AsOf = None) -> None:
    """Train and evaluate a model on temporal folds; register it, promote if the gate allows."""
    settings = _prepare(config)
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
    out.print(f"Report: {result['report_uri']} (open with `make mlflow-ui`)")


@app.command()
@user_errors
def demo(config: Config = Path("configs/demo.yaml"), seed: int = 1) -> None:
    """Synthesise the demo city if it is missing, then run the whole nightly job on it."""
    from flows.settings import load_settings

    settings = load_settings(config)
    if not (settings.data_dir / "city.json").exists():
        synth(scale="demo", seed=seed, out_dir=settings.data_dir)
    run(config=config, as_of=None)


def _report_run(summary: dict[str, Any], settings) -> None:
    out.print()
    out.print(f"[bold green]Lists for {summary['as_of']}[/] → {summary['lists']}")
    for team, rows in summary["teams"].items():
        out.print(f"  {team:<12} {rows:>4} rows")
    out.print(f"Manifest: {summary['manifest']}")
    if summary.get("trained"):
        t = summary["trained"]
        out.print(f"Trained model version {t['version']}: {t['decision']}")
        out.print(f"Training report (MLflow artifact): {t['report_uri']}")
    out.print(f"MLflow store: {settings.mlflow_uri}")
    out.print("Open the MLflow UI: make mlflow-ui  (then http://127.0.0.1:5000)")
    if summary.get("drift_alert"):
        out.print("[yellow]Drift alert: every row is flagged; see the nightly run in MLflow.[/]")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        console.print("Interrupted; nothing was published.")
        sys.exit(130)


if __name__ == "__main__":
    main()


_ = json  # used by later commands
