"""``ennakko partners requests``: what each partner may send, and about whom.

A partner source's rows may be used only for persons whose consent covers that source on
the day (``source_<partner>`` of :func:`features.consent.consent_state`, erased persons
and anyone who has withdrawn by today left out, as the nightly run does:
:func:`features.requests.partner_requests`). This command writes, per partner,
``<DIR>/<partner>.csv`` with exactly those persons: the pseudonym to key the returned rows
by (``person_id``) and the identifier the partner finds its rows with
(``identity_code``), and nothing about anyone else. The code is known only for persons
who came through the portal (decrypted by :func:`portal.partners.identity_codes`); for
register persons the column is empty and the partner matches them by its own consent
register. The audit entry holds counts per partner only.

Django is imported only when a portal database exists, never for ``ennakko --help``.
"""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flows.commands.common import (
    DEFAULT_CONFIG,
    AsJson,
    AsOf,
    Config,
    console,
    emit_json,
    load_dated,
    out,
    prepare,
    user_errors,
)

if TYPE_CHECKING:
    from features.requests import Request
    from flows.run import RunContext
    from flows.settings import Settings

OutDir = Annotated[
    Path, typer.Option("--out", help="Folder for the request files, one <partner>.csv each.")
]
COLUMNS = ("person_id", "identity_code")


@dataclass
class Written:
    """One partner's request file and its counts (never who is in it)."""

    partner: str
    path: Path
    persons: int
    with_code: int

    @property
    def without_code(self) -> int:
        return self.persons - self.with_code


@user_errors
def partners_requests(
    out_dir: OutDir,
    config: Config = DEFAULT_CONFIG,
    as_of: AsOf = None,
    as_json: AsJson = False,
) -> None:
    """Write each partner's request of the day: the persons consenting to that source.

    One CSV per partner source in DIR (person_id, identity_code); nobody else is in it.
    """
    from flows.context import exclusive, start

    settings, day = load_dated(config, as_of)
    prepare(settings)
    ctx = start(str(config), day, "partners-requests", settings=settings)
    with exclusive(ctx):
        requests = read_requests(ctx)
        wanted = sorted({p for r in requests.values() for p in r.persons})
        codes = portal_codes(settings, wanted)
        written = [
            write_request(out_dir, partner, sorted(request.persons), codes)
            for partner, request in requests.items()
        ]
        ctx.audit.append(
            {
                "event": "partners-requests",
                "run_id": ctx.run_id,
                "at": ctx.notes.get("started_at"),
                "as_of": day.isoformat(),
                "partners": {
                    w.partner: {"persons": w.persons, "with_identity_code": w.with_code}
                    for w in written
                },
            }
        )
    report(day, written, as_json)


def read_requests(ctx: RunContext) -> dict[str, Request]:
    """Each partner's request on the run date, from the consents the nightly reads."""
    from features.contracts import Context
    from features.requests import partner_requests
    from features.sources import load_source
    from flows.privacy import erased_ids

    s = ctx.settings
    result, _ = load_source(
        s.data_dir, "consents", s.sources.consents, Context(ctx.today, tuple(s.partners))
    )
    consents = result.good
    erased = erased_ids(ctx.ws, consents, ctx.keys.audit)
    return partner_requests(consents, ctx.as_of, ctx.today, s.consent, s.partners, erased)


def portal_codes(settings: Settings, person_ids: list[str]) -> dict[str, str]:
    """Identity codes of those persons registered in the portal; {} without a portal.

    The demo's portal keeps SQLite in the workspace; production names PostgreSQL in
    PORTAL_DATABASE_URL. Without either there is no portal, and Django is not loaded.
    """
    from flows.commands.portal_db import portal_runs, read_portal

    if not person_ids or not portal_runs(settings):
        return {}

    def read() -> dict[str, str]:
        from portal.partners import identity_codes

        return identity_codes(person_ids)

    return read_portal(settings, read, "the request files were not written")


def write_request(
    out_dir: Path, partner: str, persons: list[str], codes: dict[str, str]
) -> Written:
    """``<out_dir>/<partner>.csv``, written whole to a temporary file and then replaced."""
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = out_dir / f"{partner}.csv"
    handle, temp = tempfile.mkstemp(dir=out_dir, prefix=f".{partner}.", suffix=".csv")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(COLUMNS)
            writer.writerows((p, codes.get(p, "")) for p in persons)
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    with_code = sum(1 for p in persons if codes.get(p))
    return Written(partner, target, len(persons), with_code)


def report(day: date, written: list[Written], as_json: bool) -> None:
    """The summary: per partner, how many persons, and how many the partner matches itself."""
    if as_json:
        emit_json(
            {
                "as_of": day.isoformat(),
                "partners": [asdict(w) | {"without_code": w.without_code} for w in written],
            }
        )
        return
    from rich.table import Table

    table = Table(title=f"Partner requests of {day.isoformat()}")
    table.add_column("partner")
    for column in ("persons", "with identity code", "no identifier held"):
        table.add_column(column, justify="right")
    table.add_column("file")
    for w in written:
        table.add_row(
            w.partner, f"{w.persons:,}", f"{w.with_code:,}", f"{w.without_code:,}", str(w.path)
        )
    out.print(table)
    if any(w.without_code for w in written):
        console.print(
            "No identifier held: the register's persons without a portal record have an "
            "empty identity_code; the partner matches them by its own consent register."
        )
    if not written:
        console.print("No partner sources are configured: nothing was written.")
