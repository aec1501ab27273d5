"""The application log an operator reads at 2 a.m., and users' mistakes kept out of tracebacks.

Every line of ``<workspace>/logs/ennakko.log`` names its flow and task: Prefect's flow run
and task run when inside one (from the record, else from Prefect's run context), else the
command that was typed (``retention``, ``reviews import``). The file rotates by size
(:class:`LogSpec`: ``max_bytes``, ``backups``) and is plain text or one JSON object a line
(``format: json``); ``ennakko retention`` removes rotated files older than its period.
Counts and stages only: nothing personal is ever logged.

A :class:`~features.errors.SourceError` is a message for a person, already complete; the
stack behind it says nothing to them and could echo input values. :class:`UserErrorFilter`
drops the traceback of such records (the message stays) on every handler.
"""

from __future__ import annotations

import json
import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from features.errors import SourceError
from features.spec import Spec
from flows import clock

if TYPE_CHECKING:
    from flows.settings import Settings

# The loggers whose records go to the file: Prefect's run loggers, and Ennakko's own.
LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "ennakko")
TEXT = "%(asctime)s %(levelname)s flow=%(ennakko_flow)s task=%(ennakko_task)s: %(message)s"


class LogSpec(Spec):
    """The application log file (``logs:`` in the configuration)."""

    format: Literal["text", "json"] = Field(
        "text", description="text: one readable line per record; json: one JSON object a line."
    )
    max_bytes: int = Field(
        10 * 2**20, ge=1024, description="Size at which the file rotates (ennakko.log.1, …)."
    )
    backups: int = Field(5, ge=0, description="Rotated files kept (retention may remove older).")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class _State:
    """What the entry point told this module: the command, the log spec, the time zone."""

    command = "ennakko"
    spec = LogSpec()
    timezone = "UTC"


def set_command(name: str) -> None:
    """The command typed (``validate``, ``audit verify``): names lines outside Prefect."""
    _State.command = name or "ennakko"


def use_settings(settings: Settings) -> None:
    """Take the log spec (``settings.logs`` where it exists) and the city's time zone."""
    _State.spec = getattr(settings, "logs", None) or LogSpec()
    _State.timezone = settings.timezone


def command_logger() -> logging.Logger:
    """Ennakko's own logger: its records reach the file with the command or run named."""
    return logging.getLogger("ennakko")


class UserErrorFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, SourceError) or _caused_by_source_error(exc):
            record.exc_info = None
            record.exc_text = None
        return True


def _caused_by_source_error(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, SourceError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


class RunNames(logging.Filter):
    """Sets ``ennakko_flow`` and ``ennakko_task`` on every record (``-``: no task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        flow, task = _names(record)
        record.ennakko_flow = flow
        record.ennakko_task = task
        return True


def _names(record: logging.LogRecord) -> tuple[str, str]:
    flow_name = getattr(record, "flow_name", None)
    flow_run = getattr(record, "flow_run_name", None)
    task = getattr(record, "task_run_name", None)
    if "prefect.context" in sys.modules and (flow_name is None or task is None):
        context_flow, context_task = _prefect_context()
        flow_name, flow_run = (flow_name, flow_run) if flow_name else context_flow
        task = task or context_task
    if not flow_name or flow_name == "<unknown>":
        return _State.command, task or "-"
    return f"{flow_name}/{flow_run}", task or "-"


def _prefect_context() -> tuple[tuple[str | None, str | None], str | None]:
    """The flow (name, run name) and task run name of the running Prefect context."""
    from prefect.context import FlowRunContext, TaskRunContext

    flow: tuple[str | None, str | None] = (None, None)
    task = None
    try:
        running = FlowRunContext.get()
        if running is not None and running.flow_run is not None:
            flow = (running.flow.name if running.flow else None, running.flow_run.name)
        current = TaskRunContext.get()
        if current is not None:
            task = current.task_run.name
    except Exception:  # a log line must never fail for want of a name
        pass
    return flow, task


class TextFormatter(logging.Formatter):
    """One line: ISO time with the city's offset, level, flow, task, message."""

    def __init__(self, timezone: str) -> None:
        super().__init__(TEXT)
        self.timezone = timezone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return clock.from_timestamp(record.created, self.timezone).isoformat(timespec="seconds")


class JsonFormatter(TextFormatter):
    """One JSON object a line: time, level, flow, task, logger, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "flow": getattr(record, "ennakko_flow", _State.command),
            "task": getattr(record, "ennakko_task", "-"),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def file_handler(path: Path, spec: LogSpec, timezone: str) -> RotatingFileHandler:
    """A rotating handler for ``path`` that names flow and task on every line."""
    handler = RotatingFileHandler(
        path, maxBytes=spec.max_bytes, backupCount=spec.backups, encoding="utf-8", delay=True
    )
    handler.setFormatter(
        JsonFormatter(timezone) if spec.format == "json" else TextFormatter(timezone)
    )
    handler.addFilter(UserErrorFilter())
    handler.addFilter(RunNames())
    handler.setLevel(spec.level)
    handler.ennakko_spec = (spec, timezone)  # type: ignore[attr-defined]
    return handler


def attach_file_log(
    path: Path, spec: LogSpec | None = None, timezone: str | None = None
) -> RotatingFileHandler:
    """Copy Prefect's flow and task run logs, and Ennakko's own, to ``path``.

    One handler serves every logger (a rotation must not leave another handle writing to
    the renamed file); attaching again with the same settings is a no-op, with other
    settings replaces it. ``spec`` and ``timezone`` default to what :func:`use_settings`
    was given.
    """
    spec = spec or _State.spec
    timezone = timezone or _State.timezone
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = str(Path(path).absolute())
    loggers = [logging.getLogger(name) for name in LOGGERS]
    found = {h for lg in loggers for h in lg.handlers if getattr(h, "baseFilename", None) == target}
    if len(found) == 1:
        (handler,) = found
        same = getattr(handler, "ennakko_spec", None) == (spec, timezone)
        if same and all(handler in lg.handlers for lg in loggers):
            return handler  # type: ignore[return-value]
    for old in found:
        for logger in loggers:
            logger.removeHandler(old)
        old.close()
    handler = file_handler(path, spec, timezone)
    for logger in loggers:
        logger.addHandler(handler)
    own = logging.getLogger("ennakko")
    if own.level == logging.NOTSET or own.level > logging.INFO:
        own.setLevel(logging.INFO)
    return handler


def quiet_user_errors() -> None:
    """Attach the filter to every handler of the Prefect loggers (after Prefect set them up)."""
    # Prefect sets its handlers up at the first flow run unless it has already: set them up
    # now, or the filter would sit on handlers that the flow run replaces (and an error
    # raised in a flow's own body would print its traceback).
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()
    flt = UserErrorFilter()
    names = ["prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.engine", ""]
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, UserErrorFilter) for f in handler.filters):
                handler.addFilter(flt)
