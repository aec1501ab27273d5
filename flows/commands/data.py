"""Commands for an analyst looking at the data: folds, the feature matrix, indicator files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.commands.common import (
    DEFAULT_CONFIG,
    AsOf,
    Config,
    load_dated,
    out,
    prepare,
    user_errors,
)


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


@user_errors
def folds(config: Config = DEFAULT_CONFIG, as_of: AsOf = None) -> None:
    """Print the rolling temporal folds a training run on this date would use."""
    from rich.table import Table

    from features.folds import final_training_dates, temporal_folds
    from flows import pipeline
    from flows.context import start

    settings, _ = load_dated(config, as_of)
    prepare(settings)
    ctx = start(str(config), as_of, "folds", settings=settings)
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

    settings, _ = load_dated(config, as_of)
    prepare(settings)
    ctx = start(str(config), as_of, "features", settings=settings)
    with exclusive(ctx):  # it writes the feature cache, which an erasure must reach
        matrix = pipeline.cached_features(ctx)
    ctx.ws.write_parquet(out_path.resolve(), matrix.frame)
    aside = out_path.with_name(out_path.stem + ".aside.parquet")
    ctx.ws.write_parquet(aside.resolve(), matrix.aside)
    out.print(f"Wrote {matrix.frame.height:,} rows × {len(matrix.names)} features to {out_path}")
    out.print(f"Sensitive and audit attributes (never model inputs): {aside}")
