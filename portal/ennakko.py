"""The portal's bridge to the nightly job's workspace: taking a person off today's lists.

A withdrawal counts from the next list on (the export the nightly reads), but a list
published this morning may already name the person. :func:`unlist` removes them from it
by the route erasure uses: under the workspace lock (``flows.lock``), rows matched by
keyed hash (``flows.privacy.Matcher``, the pseudonym and its second-layer id) are
scrubbed from each team's Parquet, and ``flows.erasure.rebuild_team_list`` rebuilds that
team's CSV, workbook and the manifest from it. The audit entry names the person only by
keyed hash. Nothing else is touched: the person's scores and decisions stay until an
erasure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from flows import clock

LOCK_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Unlisted:
    lists: int  # team lists the person was taken off
    rows: int


def context():
    """A ``flows.run.RunContext`` for the portal's workspace (keys as the nightly gets them)."""
    from flows.run import RunContext
    from flows.runtime import keys
    from flows.workspace import Workspace

    ws = Workspace(Path(settings.PORTAL_WORKSPACE))
    now = clock.now(settings.TIME_ZONE)
    return RunContext(
        settings=settings.ENNAKKO,
        ws=ws,
        keys=keys(settings.ENNAKKO, ws),
        as_of=now.date(),
        today=now.date(),
        run_id=now.strftime("portal-%Y%m%dT%H%M%S"),
        kind="portal",
    )


def matcher(person_id: str, ctx):
    """Matches the person's pseudonym and (with the second layer on) its layer id."""
    from features.pseudonym import keyed_hash
    from flows import privacy

    hashes = {keyed_hash(person_id, ctx.keys.audit)}
    if ctx.keys.pseudonym:
        hashes.add(keyed_hash(privacy.layer_id(person_id, ctx.keys.pseudonym), ctx.keys.audit))
    return privacy.Matcher(hashes, ctx.keys.audit)


def todays_lists(ctx) -> list[Path]:
    """The team Parquet files of every list version published for today or a later day
    (a night run ahead of its morning publishes tomorrow's), if any."""
    from outreach.publish import current, team_lists

    root = ctx.ws.path("lists")
    if not root.is_dir():
        return []
    files = []
    for link in sorted(root.iterdir()):
        if link.name.startswith(".") or link.name < ctx.today.isoformat():
            continue
        folder = current(root, link.name)
        if folder is not None and folder.is_dir():
            files.extend(team_lists(folder, link.name))
    return files


def unlist(person_id: str) -> Unlisted:
    """Take the person off every team list published for today (or later); writes an audit entry when
    a list held them. Raises ``flows.lock.WorkspaceBusyError`` when the nightly job holds
    the workspace longer than ``LOCK_WAIT_SECONDS`` (nothing changed then)."""
    from flows import privacy
    from flows.erasure import rebuild_team_list
    from flows.lock import workspace_lock

    ctx = context()
    match = matcher(person_id, ctx)
    lists = rows = 0
    with workspace_lock(ctx.ws.root, "portal unlist", LOCK_WAIT_SECONDS):
        for parquet in todays_lists(ctx):
            removed = privacy.scrub_file(ctx.ws, parquet, match)
            if removed:
                rebuild_team_list(ctx, parquet)
                lists, rows = lists + 1, rows + removed
        if rows:
            ctx.audit.append(
                {
                    "event": "portal.unlist",
                    "person_hash": _hash(person_id, ctx),
                    "lists": lists,
                    "rows_removed": rows,
                    "at": clock.now(settings.TIME_ZONE).isoformat(timespec="seconds"),
                }
            )
    return Unlisted(lists, rows)


def _hash(person_id: str, ctx) -> str:
    from features.pseudonym import keyed_hash

    return keyed_hash(person_id, ctx.keys.audit)
