"""The ``ennakko`` command line: the commands of :mod:`flows.commands`, assembled.

Heavy libraries are imported inside the commands so that ``ennakko --help`` answers at
once. A user's mistake (bad configuration, a broken extract) ends in one clear paragraph
and exit status 2, never a traceback. ``ennakko --install-completion`` adds shell
completion; ``ennakko --version`` names the installed version.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from flows.commands import (
    bench,
    data,
    funnel,
    partners,
    portal,
    privacy,
    register,
    reviews,
    runs,
    validate,
)
from flows.commands.common import DEFAULT_CONFIG, console, out

__all__ = ["DEFAULT_CONFIG", "app", "console", "main", "out"]

app = typer.Typer(
    name="ennakko",
    help="Consent-based early-warning lists for youth employment services.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
indicators_app = typer.Typer(help="Aggregate indicator files.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
privacy_app = typer.Typer(help="Records for the data-protection officer.", no_args_is_help=True)
reviews_app = typer.Typer(help="Counsellors' decisions coming back.", no_args_is_help=True)
partners_app = typer.Typer(help="What partners may send, and about whom.", no_args_is_help=True)
app.add_typer(indicators_app, name="indicators")
app.add_typer(audit_app, name="audit")
app.add_typer(privacy_app, name="privacy")
app.add_typer(reviews_app, name="reviews")
app.add_typer(partners_app, name="partners")

for command in (runs.synth, runs.run, runs.train, runs.demo, validate.validate):
    app.command()(command)
indicators_app.command("convert")(data.indicators_convert)
app.command()(data.folds)
app.command()(data.features)
app.command()(privacy.erase)
app.command()(privacy.retention)
audit_app.command("verify")(privacy.audit_verify)
privacy_app.command("report")(privacy.privacy_report)
app.command()(bench.bench)
reviews_app.command("import")(reviews.reviews_import)
reviews_app.command("report")(reviews.reviews_report)
partners_app.command("requests")(partners.partners_requests)
app.command()(runs.serve)
app.command()(portal.portal)
app.command()(register.register)
app.command()(funnel.funnel)


def version() -> str:
    """The installed package's version (``pip show ennakko``), or "unknown" from a bare tree."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("ennakko")
    except PackageNotFoundError:
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ennakko {version()}")
        raise typer.Exit()


@app.callback()
def root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    """Consent-based early-warning lists for youth employment services."""


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        console.print("Interrupted; nothing was published.")
        sys.exit(130)


if __name__ == "__main__":
    main()
