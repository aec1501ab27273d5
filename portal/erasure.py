"""Erase everything about a person: the same erasure as ``ennakko erase``, then the portal's own.

The derived stores (scores, features, snapshots, reviews, published lists, model versions)
are erased by ``flows.erasure.run_erasure`` with a ``RunContext`` built as the command
builds it (``flows.context.start``), under the workspace lock (``flows.context.exclusive``):
one implementation, not two. Then the login goes, and with it (cascade) the ``Person``, its
consent records and contact requests; the portal's export part is rewritten without them
and the audit log gets a ``portal.erasure`` entry naming the person by keyed hash only.

The lock is waited for at most ``PORTAL_ERASURE_LOCK_WAIT`` seconds (10): a nightly run
may hold it for minutes, and a person should hear "try again in a moment" rather than wait.
A dry run takes the lock and checks what the erasure would check, and changes no store, no
record and no audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from flows import clock
from portal.models import Person

REASON_PAGE = "request by the person via the portal"
REASON_GDPR_API = "request by the person via the city profile's GDPR API"


class BusyError(Exception):
    """The workspace lock stayed taken (a nightly run, say) longer than we wait: nothing
    was erased; try again in a moment."""


@dataclass
class ErasureSummary:
    """What an erasure did (counts only: never the pseudonym)."""

    dry_run: bool
    known_to_ennakko: bool  # did any store, list or the consents extract know the person?
    rows_removed: int = 0
    files_rewritten: int = 0
    records_deleted: int = 0
    traces_left: list[str] = field(default_factory=list)


def _context():
    """The run context of ``ennakko erase``, on the portal's workspace and data folder,
    waiting at most ``PORTAL_ERASURE_LOCK_WAIT`` seconds for the lock."""
    from flows.context import start

    ennakko = settings.ENNAKKO.model_copy(
        update={
            "workspace": Path(settings.PORTAL_WORKSPACE),
            "data_dir": Path(settings.PORTAL_DATA_DIR),
            "lock_wait_seconds": float(settings.PORTAL_ERASURE_LOCK_WAIT),
        }
    )
    return start(str(ennakko.config_path), None, "erase", settings=ennakko)


def _known(ctx, person_id: str) -> bool:
    """Does Ennakko know the pseudonym (``flows.erasure.is_known``, as the erasure asks)?"""
    from flows import privacy
    from flows.erasure import is_known

    journal = privacy.new_journal(person_id, ctx.keys.audit, ctx.keys.pseudonym, ctx.today, "")
    return is_known(ctx, person_id, privacy.Matcher(journal.hashes, ctx.keys.audit))


def _rewrite_exports(person_id: str) -> None:
    """The portal's export parts without the person: exported again from the database,
    which no longer holds them (``exports.after_change``). Where an export is refused or
    fails (a shadowing file, a bad row), the person's rows are still removed from each part
    that holds them."""
    import polars as pl

    from portal import exports

    exports.after_change()
    for part in (exports.PART, exports.CONTACTS_PART, exports.REQUESTS):
        path = exports.data_dir() / part
        if path.exists():
            frame = pl.read_parquet(path)
            kept = frame.filter(pl.col("person_id") != person_id)
            if kept.height < frame.height:
                write = (
                    exports.write_requests if part == exports.REQUESTS else exports.write_atomically
                )
                write(kept, path)


def erase_person(
    person: Person, reason: str = REASON_PAGE, *, via: str = "page", dry_run: bool = False
) -> ErasureSummary:
    """Erase ``person`` from every derived store and from the portal, or (``dry_run``) only
    check that it could be done now. ``reason`` goes into the erasure register and audit
    log (words only: an identifier in it is refused); ``via`` names the route in the audit.

    Raises ``BusyError`` when the workspace stays locked; ``SourceError`` from the erasure
    (e.g. a broken audit chain), after which the portal's own rows are left as they were.
    """
    from flows.context import exclusive
    from flows.erasure import run_erasure
    from flows.lock import WorkspaceBusyError, workspace_lock

    person_id = person.person_id
    ctx = _context()
    try:
        if dry_run:
            with workspace_lock(ctx.ws.root, "erase", ctx.settings.lock_wait_seconds):
                return ErasureSummary(dry_run=True, known_to_ennakko=_known(ctx, person_id))
        with exclusive(ctx):
            summary = ErasureSummary(dry_run=False, known_to_ennakko=_known(ctx, person_id))
            if summary.known_to_ennakko:
                report = run_erasure(ctx, person_id, reason)
                summary.rows_removed = report.rows_removed
                summary.files_rewritten = len(report.files_rewritten)
                summary.traces_left = report.traces_left
            _erase_in_portal(ctx, person, via, summary)
            return summary
    except WorkspaceBusyError:
        raise BusyError("the workspace is busy; nothing was erased") from None


def _erase_in_portal(ctx, person: Person, via: str, summary: ErasureSummary) -> None:
    """Delete the login (cascading to the person, consents and contact requests), rewrite
    the export and write the audit entry, in one transaction: a failed audit append keeps
    the rows."""
    from features.pseudonym import keyed_hash

    person_id = person.person_id
    with transaction.atomic():
        summary.records_deleted = person.consents.count()
        user = person.user
        user.delete()  # the cascade, not ConsentRecord's queryset, removes the records
        _rewrite_exports(person_id)
        ctx.audit.append(
            {
                "event": "portal.erasure",
                "person_hash": keyed_hash(person_id, ctx.keys.audit),
                "via": via,
                "known_to_ennakko": summary.known_to_ennakko,
                "records_deleted": summary.records_deleted,
                "rows_removed": summary.rows_removed,
                "at": clock.now(settings.TIME_ZONE).isoformat(timespec="seconds"),
            }
        )
