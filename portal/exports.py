"""The portal's consents as the nightly job reads them: ``<out_dir>/consents/portal.parquet``.

The nightly job reads a source ``consents`` as ``consents.parquet``, ``consents.csv`` or a
folder ``consents/`` of parts, and refuses a file and the folder side by side
(``features.readers.locate``), so the portal writes one part into the folder (the synthetic
city writes the register's as ``consents/register.parquet``) and refuses to write while a
``consents.parquet`` or ``consents.csv`` lies beside it: the next run would stop on it.

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

import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings

from flows import clock
from portal.consent import local_date
from portal.models import ConsentRecord, ContactRequest, Person

log = logging.getLogger(__name__)
PART = Path("consents") / "portal.parquet"
CONTACTS_PART = Path("contacts") / "portal.parquet"
REQUESTS = Path("contact_requests.parquet")
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


def refuse_shadowing_file(out_dir: Path, source: str = "consents") -> None:
    """A ``<source>.parquet``/``.csv`` beside the folder: the nightly refuses the pair."""
    for suffix in (".parquet", ".csv"):
        shadow = out_dir / f"{source}{suffix}"
        if shadow.exists():
            raise ExportRefusedError(
                f"{shadow} lies beside {out_dir / source}/ and the nightly reads only one: move it to "
                f"{out_dir / source / ('register' + suffix)} first"
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


def write_requests(frame, target: Path) -> None:
    """The contact requests, or no file when there are none: the nightly reads an absent
    ``contact_requests`` as "no requests" and refuses a file without rows (an empty
    extract is a delivery fault for every other source)."""
    if frame.height:
        write_atomically(frame, target)
    else:
        target.unlink(missing_ok=True)


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


def contact_requests_frame():
    """Every "contact me" request, without contact details: who (pseudonym), when (a
    date), how, in which language, the two answers and when it closed."""
    import polars as pl

    rows = [
        {
            "person_id": r.person.person_id,
            "requested_at": local_date(r.requested_at),
            "method": r.method,
            "language": r.language,
            "situation": r.situation or None,
            "help_wanted": r.help_wanted or None,
            "closed_at": local_date(r.closed_at),
        }
        for r in ContactRequest.objects.select_related("person").order_by("requested_at", "pk")
    ]
    schema = {
        "person_id": pl.String,
        "requested_at": pl.Date,
        "method": pl.String,
        "language": pl.String,
        "situation": pl.String,
        "help_wanted": pl.String,
        "closed_at": pl.Date,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def contacts_frame():
    """The contact vault's part: each person's latest request that is not closed by "do
    not contact me" or erasure (one row a person, as the contacts contract wants); persons
    whose login gave no name are left out (the contract needs one)."""
    import polars as pl

    latest: dict[str, ContactRequest] = {}
    for request in ContactRequest.objects.select_related("person").order_by("requested_at", "pk"):
        latest[request.person.person_id] = request
    rows = [
        {
            "person_id": person_id,
            "name": r.name,
            "phone": r.phone or None,
            "email": r.email or None,
            "preferred_language": r.language,
        }
        for person_id, r in sorted(latest.items())
        if r.closed_reason not in ("do_not_contact", "erased") and r.name
    ]
    schema = {
        "person_id": pl.String,
        "name": pl.String,
        "phone": pl.String,
        "email": pl.String,
        "preferred_language": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def check_contract(frame, source: str, today: date) -> None:
    """Refuse a frame that fails ``source``'s contract (when Ennakko declares one)."""
    from features import contracts
    from features.validate import validate

    declared = contracts.CONTRACTS.get(source)
    if declared is None:
        return
    ctx = contracts.Context(reference_date=today, partners=tuple(settings.ENNAKKO.partners))
    result = validate(frame, declared(ctx), source=f"{source} (portal)")
    if result.bad.height:
        raise ExportRefusedError(f"{result.bad.height} {source} rows fail the {source} contract")


def export_contacts(out_dir: Path | str) -> tuple[Path, Path]:
    """Write ``<out_dir>/contact_requests.parquet`` and ``<out_dir>/contacts/portal.parquet``
    (each checked against its contract, then replaced atomically)."""
    out_dir = Path(out_dir)
    refuse_shadowing_file(out_dir, "contacts")
    today = clock.today(settings.TIME_ZONE)
    requests, contacts = contact_requests_frame(), contacts_frame()
    check_contract(requests, "contact_requests", today)
    check_contract(contacts, "contacts", today)
    write_requests(requests, out_dir / REQUESTS)
    write_atomically(contacts, out_dir / CONTACTS_PART)
    return out_dir / REQUESTS, out_dir / CONTACTS_PART


def data_dir() -> Path:
    """Where the nightly job reads its sources: ``PORTAL_DATA_DIR``, else Ennakko's."""
    return Path(getattr(settings, "PORTAL_DATA_DIR", None) or settings.ENNAKKO.data_dir)


def after_change() -> bool:
    """Export everything after a change a person made, so the next night reads it. A
    refused or failed export leaves the previous parts (``manage.py portal_export`` writes
    them again) and is logged by its class only; the person's change stays stored."""
    done = True
    for export in (export_consents, export_contacts):  # one refused, the other still written
        try:
            export(data_dir())
        except (ExportRefusedError, OSError) as failed:
            log.warning("portal export %s not written: %s", export.__name__, type(failed).__name__)
            done = False
    return done
