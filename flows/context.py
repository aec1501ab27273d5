"""Build a run's context at the entry point: the only place that reads config, env and clock."""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime

from flows import clock
from flows.audit import heads_in_manifests
from flows.lock import unwritable, workspace_lock
from flows.logs import attach_file_log
from flows.privacy import check_register
from flows.run import RunContext
from flows.runtime import configure, keys
from flows.settings import Settings, as_of_or_today, load_settings
from flows.store import check_embedded_store
from flows.workspace import discard_leftovers


def now_in(settings: Settings) -> datetime:
    return clock.now(settings.timezone)


def start(
    config: str,
    as_of: str | date | None,
    kind: str,
    *,
    settings: Settings | None = None,
    say: Callable[[str], None] | None = None,
) -> RunContext:
    """Settings, workspace, keys and dates of a run."""
    settings = settings or load_settings(config)
    now = now_in(settings)
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    run_date = as_of_or_today(settings, as_of, now.date())  # refuses a future date
    try:
        ws = configure(settings)
        ctx = RunContext(
            settings=settings,
            ws=ws,
            keys=keys(settings, ws),
            as_of=run_date,
            today=max(now.date(), run_date),
            run_id=_run_id(now),
            kind=kind,
        )
        attach_file_log(ws.path("logs", "ennakko.log"), settings.logs, settings.timezone)
    except OSError as exc:  # a read-only or full workspace: say so now, not minutes later
        raise unwritable(settings.workspace, exc) from None
    if say is not None:
        ctx.say = say
    ctx.notes["started_at"] = now.isoformat(timespec="seconds")
    return ctx


def _run_id(now: datetime) -> str:
    """The Prefect flow run's id when inside one, else a timestamped random id."""
    if "prefect" in sys.modules:  # never import Prefect just to ask
        from prefect.runtime import flow_run

        with contextlib.suppress(Exception):  # not in a flow run
            if flow_run.id:
                return str(flow_run.id)[:8] + "-" + now.strftime("%Y%m%dT%H%M%S")
    return now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def close_unpublished(ctx: RunContext, removed: list[str]) -> None:
    """A run killed between its audit entry and the switch left an entry for lists nobody
    saw: say so in the log (``publish-aborted``), as a run that fails there would."""
    entries = ctx.audit.read()
    last = entries[-1] if entries else None
    if not last or last.get("event") != "nightly" or not removed:
        return
    if any(name.startswith(tuple(removed)) for name in last.get("outputs", {})):
        ctx.audit.append(
            {"event": "publish-aborted", "failed_entry": last["seq"], "error": "interrupted"}
        )


@contextlib.contextmanager
def exclusive(ctx: RunContext) -> Iterator[RunContext]:
    """Hold the workspace lock, and first check what every changing command relies on:
    the audit log is intact (up to the newest head a manifest recorded) and no erasure
    is left half done; the embedded MLflow store is sound and points into this workspace.
    Run, train, erase, retention and reviews import go through here."""
    s = ctx.settings
    with workspace_lock(s.workspace, ctx.kind, s.lock_wait_seconds):
        removed = discard_leftovers(ctx.ws)
        for name in removed:
            ctx.say(f"removed what an interrupted command left half-made: {name}")
        ctx.audit.ensure_intact(heads_in_manifests(ctx.ws.path("lists")))
        close_unpublished(ctx, removed)
        check_register(ctx.ws, ctx.audit.read())
        if s.mlflow.tracking_uri is None:
            for old in check_embedded_store(
                s.workspace / "mlflow" / "mlflow.db", s.mlflow_artifacts
            ):
                ctx.say(f"the workspace moved: MLflow artifacts re-pointed from {old}")
        if ctx.ws.path("privacy", "pending").exists():
            from flows.erasure import finish_pending

            finish_pending(ctx)
        yield ctx
