"""``ennakko bench``: how long each nightly stage takes, or each hand-typed command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.commands import progress
from flows.commands.common import (
    DEFAULT_CONFIG,
    AsJson,
    Scale,
    console,
    emit_json,
    out,
    user_errors,
)


@user_errors
def bench(
    scale: Annotated[Scale, typer.Option(help="Size of the synthetic city.")] = Scale.helsinki,
    train: Annotated[
        bool, typer.Option("--train", help="Also time training (all folds, challenger, report).")
    ] = False,
    as_json: AsJson = False,
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
    portal: Annotated[
        bool,
        typer.Option(
            "--portal",
            help="Instead: how fast the consent portal starts and serves its consent page.",
        ),
    ] = False,
    clients: Annotated[int, typer.Option(min=1, max=99, help="With --portal: clients.")] = 20,
    rounds: Annotated[int, typer.Option(min=5, help="With --portal: requests per client.")] = 50,
) -> None:
    """Wall time and peak memory of every nightly stage on a cached synthetic city."""
    if commands:
        _bench_commands(root, as_json)
        return
    if portal:
        _bench_portal(root, clients, rounds, as_json)
        return
    from flows.bench import run_bench
    from flows.logs import quiet_user_errors

    name = Scale(scale).value
    quiet_user_errors()
    shown = progress.wanted(as_json)
    with progress.bar(f"bench --scale {name}", shown) as bar:

        def report(stage) -> None:
            bar.advance(f"{stage.name}: {stage.seconds:.1f} s")
            if not as_json:
                console.print(
                    f"  {stage.name:<28} {stage.seconds:8.2f} s   peak {stage.peak_rss_mb:8,.0f} MB",
                    highlight=False,
                )

        def say(message: str) -> None:
            bar.describe(message)
            if not as_json:
                console.print(message, style="dim")

        result = run_bench(name, seed=seed, root=root, train=train, report=report, say=say)
    if as_json:
        emit_json(result.as_dict())
    else:
        _show(result, root, name)


def _show(result, root: Path, scale: str) -> None:
    from rich.table import Table

    from flows.bench import NIGHTLY

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
    out.print(
        f"Stages in the nightly total: {', '.join(NIGHTLY)} (the nightly flow's tasks, run "
        "in-process without Prefect's API; publish includes the night's MLflow run)."
    )
    for k, v in result.notes.get("training", {}).items():
        out.print(f"  {k}: {v}")
    out.print(f"Saved to {root / scale / 'bench.json'}")


def _bench_commands(root: Path, as_json: bool) -> None:
    from dataclasses import asdict

    from rich.table import Table

    from flows.bench_commands import bench_commands
    from flows.settings import load_settings

    settings = load_settings(DEFAULT_CONFIG, env={})
    with progress.bar("bench --commands", progress.wanted(as_json)) as bar:
        results = bench_commands(
            settings.workspace, DEFAULT_CONFIG, root, report=lambda r: bar.advance(r.command)
        )
    if as_json:
        emit_json([asdict(r) for r in results])
        return
    table = Table(title="ennakko bench --commands: each command as its own process, on the demo")
    for column in ("command", "wall (s)", "peak RSS (MB)", "exit"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for r in results:
        colour = "green" if r.seconds < 2 else "yellow"
        table.add_row(r.command, f"[{colour}]{r.seconds:.2f}[/]", f"{r.peak_rss_mb:,.0f}",
                      str(r.exit_code))  # fmt: skip
    out.print(table)


def _bench_portal(root: Path, clients: int, rounds: int, as_json: bool) -> None:
    from dataclasses import asdict

    from rich.table import Table

    from flows import clock
    from flows.bench_portal import PAGE, bench_portal
    from flows.settings import load_settings

    settings = load_settings(DEFAULT_CONFIG, env={})
    say = (lambda m: None) if as_json else (lambda m: console.print(m, style="dim"))
    results = bench_portal(
        DEFAULT_CONFIG, root, clock.today(settings.timezone), clients, rounds, say
    )
    if as_json:
        emit_json([asdict(r) for r in results])
        return
    table = Table(
        title=f"ennakko bench --portal: {clients} clients at once, {PAGE} ({rounds} each)"
    )
    for column in (
        "server",
        "start (s)",
        "requests",
        "errors",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "req/s",
        "server CPU ms/req",
    ):
        table.add_column(column, justify="left" if column == "server" else "right")
    for r in results:
        colour = "green" if r.p95_ms < 50 else "yellow"
        table.add_row(r.server, f"{r.start_seconds:.2f}", str(r.requests), str(r.errors),
                      f"{r.p50_ms:.1f}", f"[{colour}]{r.p95_ms:.1f}[/]", f"{r.p99_ms:.1f}",
                      f"{r.per_second:.0f}", f"{r.server_cpu_ms:.1f}")  # fmt: skip
    out.print(table)
