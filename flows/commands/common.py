"""What every command shares: the consoles, the common options, the error boundary.

A user's mistake (bad configuration, a broken extract, a bad ``--as-of``) ends in one clear
paragraph and exit status 2, never a traceback, and is refused before the workspace is
prepared: a refused command writes nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, redirect_stdout
from datetime import date
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from flows.settings import Settings

console = Console(stderr=True)  # messages for a person, progress and errors
out = Console()  # the result: tables, paths, or JSON with --json
F = TypeVar("F", bound=Callable[..., Any])

# Without --config or ENNAKKO_CONFIG every command works on the demo (make demo), from
# any folder: the embedded default. Production passes its own file.
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"

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
AsJson = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on stdout, and nothing else.")
]


class Scale(StrEnum):
    """Sizes of the synthetic city (``synth.SCALES``; a test keeps the two equal)."""

    demo = "demo"
    helsinki = "helsinki"
    finland = "finland"


class ExecutorKind(StrEnum):
    """Where the nightly run's area partitions run (``executor.kind``)."""

    local = "local"
    dask = "dask"


def command_name() -> str:
    """The command as typed without the program, e.g. ``audit verify`` (for the log)."""
    import click

    ctx = click.get_current_context(silent=True)
    return " ".join(ctx.command_path.split()[1:]) if ctx else "ennakko"


def user_errors(func: F) -> F:
    """Turn a SourceError (bad input or configuration) into a paragraph and exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from features.errors import SourceError
        from flows.logs import set_command

        set_command(command_name())
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


def parse_as_of(value: str | None) -> date | None:
    """``--as-of`` as a date; a malformed one is a user's mistake, named in one line."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from features.errors import SourceError

        raise SourceError(
            "--as-of", f"{value!r} is not a valid date: write it as YYYY-MM-DD, e.g. 2025-12-01."
        ) from None


def load_dated(config: Path, as_of: str | None) -> tuple[Settings, date]:
    """Settings and the run date, checked at the boundary before anything is prepared.

    A malformed ``--as-of`` is refused before the configuration is read, a future one (or
    a future ``as_of`` in the file) before the workspace is created or written.
    """
    from flows import clock
    from flows.settings import as_of_or_today, load_settings

    day = parse_as_of(as_of)
    settings = load_settings(config)
    return settings, as_of_or_today(settings, day, clock.today(settings.timezone))


def load(config: Path) -> Settings:
    """Settings of a command that takes no as-of date."""
    from flows.settings import load_settings

    return load_settings(config)


def prepare(settings: Settings, *, flow: bool = False) -> Settings:
    """Process environment and log settings for a command (before Prefect is imported).

    Only commands that run a Prefect flow (``flow=True``) import Prefect: the others
    answer in a second or two without it.
    """
    from flows.logs import use_settings
    from flows.runtime import configure

    configure(settings)
    use_settings(settings)
    if flow:
        from flows.logs import quiet_user_errors

        quiet_user_errors()
    return settings


def stdout_to_stderr(as_json: bool) -> AbstractContextManager[Any]:
    """With --json, whatever a flow prints goes to stderr: stdout holds the JSON alone."""
    return redirect_stdout(sys.stderr) if as_json else nullcontext()


def emit_json(data: Any) -> None:
    """The machine-readable result: plain JSON on stdout (dates and paths as strings)."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
