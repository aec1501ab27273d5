"""Keep users' mistakes out of tracebacks, on the terminal and in Prefect's log store.

A :class:`~features.errors.SourceError` is a message for a person, already complete; the
stack behind it says nothing to them and could echo input values. This filter drops the
traceback of such records (the message stays) on every Prefect handler.
"""

from __future__ import annotations

import logging

from features.errors import SourceError


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


def attach_file_log(path) -> None:
    """Copy Prefect's flow and task run logs to ``path`` (the application log an operator
    reads at 2 a.m.). Counts and stages only: nothing personal is ever logged."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = str(path)
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        if any(getattr(h, "baseFilename", None) == target for h in logger.handlers):
            continue
        handler = logging.FileHandler(target, encoding="utf-8")
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
            )
        )
        handler.addFilter(UserErrorFilter())
        handler.setLevel(logging.INFO)
        logger.addHandler(handler)
