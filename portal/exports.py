"""The portal's consents as the nightly job reads them: ``<out_dir>/consents/portal.parquet``.

The nightly job reads a source ``consents`` as ``consents.parquet``, ``consents.csv`` or a
folder ``consents/`` of parts, in that order (``features.readers.locate``), so the portal
writes one part into the folder and refuses to write while a ``consents.parquet`` or
``consents.csv`` lies beside it: that file would be read and the portal's part silently
never (move it to ``consents/register.parquet``).

One row per person and day on which their consents changed, in the consents contract
(``features.contracts.consents_contract``): the purposes granted at the end of that day.
``features.consent`` lets the latest day decide and merges several consents given on one
day to the most restrictive (purposes intersected), so several changes of one day are
never exported side by side: only the day's last state is, under the id of the day's last
record (the earlier records stay in the portal's history). A day that ends with nothing
granted is a withdrawal: the purposes withdrawn that day, with ``withdrawn_at`` that day.
A granted purpose's own expiry stays with it: the row expires when its first purpose does.

Rows carry the pseudonym and the contract's attributes only (birth year, postal code,
language, team): never the identity code, a name or a contact detail. Persons who have not
given their postal code and language yet are left out (the contract needs them). The frame
is checked with ``features.validate`` before it is written, and written to a temporary
file that replaces the part only when complete (``os.replace``): a failed export leaves
the previous part as it was.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings

from flows import clock
from portal.consent import local_date
from portal.models import ConsentRecord, Person

PART = Path("consents") / "portal.parquet"
COLUMNS = (
    "person_id",
    "consent_id",
    "given_at",
    "expires_at",
    "withdrawn_at",
    "purposes",
    "channel",
    "notice_version",
    "birth_year",
    "postal_code",
    "language",
    "team",
    "gender",
)


class ExportRefusedError(Exception):
    """The export was not written (the previous part, if any, is unchanged)."""


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int
    persons: int
    left_out: int  # persons with records but no postal code, language or team yet


def _day_rows(person: Person, records: list[ConsentRecord]) -> list[dict]:
    """One row per local day with changes: the state after the day's last record."""
    head: dict[str, ConsentRecord] = {}  # each purpose's latest record so far
    rows = []
    days = sorted({local_date(r.recorded_at) for r in records})
    for day in days:
        todays = [r for r in records if local_date(r.recorded_at) == day]
        for record in todays:
            head[record.purpose] = record
        last = todays[-1]
        granted = [
            r for r in head.values() if r.state == "given" and local_date(r.expires_at) > day
        ]
        if granted:
            chosen, withdrawn = granted, None
            expires = min(local_date(r.expires_at) for r in granted)
        else:
            chosen = [r for r in todays if r.state == "withdrawn"] or [last]
            withdrawn = day
            ends = min(local_date(r.expires_at) for r in chosen)
            expires = ends if ends > day else None
        rows.append(
            {
                "person_id": person.person_id,
                "consent_id": str(last.record_id),
                "given_at": day,
                "expires_at": expires,
                "withdrawn_at": withdrawn,
                "purposes": ",".join(sorted(r.purpose for r in chosen)),
                "channel": last.channel,
                "notice_version": last.notice.version,
                "birth_year": person.birth_year,
                "postal_code": person.postal_code,
                "language": person.language,
                "team": person.team,
                "gender": None,
            }
        )
    return rows


def consents_frame(persons=None):
    """The export's rows as a polars frame in the consents contract, and how many persons
    with records were left out for want of postal code, language or team."""
    import polars as pl

    query = Person.objects.filter(consents__isnull=False).distinct().order_by("person_id")
    if persons is not None:
        query = query.filter(pk__in=[p.pk for p in persons])
    rows, left_out = [], 0
    for person in query:
        if not (person.postal_code and person.language and person.team):
            left_out += 1
            continue
        records = list(
            ConsentRecord.objects.filter(person=person)
            .select_related("notice")
            .order_by("recorded_at", "record_id")
        )
        rows.extend(_day_rows(person, records))
    schema = {
        "person_id": pl.String,
        "consent_id": pl.String,
        "given_at": pl.Date,
        "expires_at": pl.Date,
        "withdrawn_at": pl.Date,
        "purposes": pl.String,
        "channel": pl.String,
        "notice_version": pl.String,
        "birth_year": pl.Int32,
        "postal_code": pl.String,
        "language": pl.String,
        "team": pl.String,
        "gender": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row"), left_out


def check(frame, today: date) -> None:
    """Refuse a frame the nightly job would not accept whole (``features.validate``)."""
    from features.contracts import Context, consents_contract
    from features.validate import validate

    ctx = Context(reference_date=today, partners=tuple(settings.ENNAKKO.partners))
    result = validate(frame, consents_contract(ctx), source="consents (portal)")
    if result.bad.height:
        raise ExportRefusedError(f"{result.bad.height} consent rows fail the consents contract")


def refuse_shadowing_file(out_dir: Path) -> None:
    """A ``consents.parquet``/``.csv`` beside the folder is read instead of the folder."""
    for suffix in (".parquet", ".csv"):
        shadow = out_dir / f"consents{suffix}"
        if shadow.exists():
            raise ExportRefusedError(
                f"{shadow} would be read instead of {out_dir / 'consents'}/: move it to "
                f"{out_dir / 'consents' / ('register' + suffix)} first"
            )


def write_atomically(frame, target: Path) -> None:
    """Write ``frame`` as Parquet to a hidden temporary file beside ``target``, then
    rename it over ``target``; on any failure the temporary file goes and ``target`` stays."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            frame.write_parquet(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def export_consents(out_dir: Path | str) -> Exported:
    """Write the portal's consents to ``<out_dir>/consents/portal.parquet`` (the function
    the nightly job and ``manage.py portal_export`` call). Raises ``ExportRefusedError`` (and
    writes nothing) when a shadowing file exists or a row fails the contract."""
    out_dir = Path(out_dir)
    refuse_shadowing_file(out_dir)
    frame, left_out = consents_frame()
    check(frame, clock.today(settings.TIME_ZONE))
    target = out_dir / PART
    write_atomically(frame, target)
    return Exported(target, frame.height, frame["person_id"].n_unique(), left_out)
