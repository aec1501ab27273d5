"""Progress bars for the long commands (synth, train, bench), for a person at a terminal.

A bar is drawn on stderr only when stderr is a terminal and the run is not in CI and not
asked for ``--json``: piped output, CI logs and machine-readable results never see one.
While a bar is live, Prefect's console lines below warnings are held back (the log file
still gets every line) and the bar names the stage instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from flows.commands.common import console


def wanted(as_json: bool = False) -> bool:
    """Whether to draw a bar: a terminal on stderr, not CI, not --json."""
    return not as_json and not os.environ.get("CI") and console.is_terminal


class Bar:
    """One task of a rich Progress, or nothing at all when bars are off."""

    def __init__(self, progress=None, task=None) -> None:
        self._progress = progress
        self._task = task

    def describe(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text[:70])

    def advance(self, text: str | None = None) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)
            if text:
                self.describe(text)


@contextmanager
def bar(label: str, enabled: bool, total: int | None = None) -> Iterator[Bar]:
    """A progress bar titled ``label`` (a pulse when ``total`` is unknown)."""
    if not enabled:
        yield Bar()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    columns += [MofNCompleteColumn()] if total else []
    progress = Progress(*columns, TimeElapsedColumn(), console=console, transient=True)
    with progress:
        yield Bar(progress, progress.add_task(label, total=total))


class _StageHandler(logging.Handler):
    """Names the running Prefect task on the bar; advances it when a task finishes."""

    def __init__(self, shown: Bar) -> None:
        super().__init__(logging.INFO)
        self.shown = shown

    def emit(self, record: logging.LogRecord) -> None:
        task = getattr(record, "task_run_name", None)
        if task is None:
            self.shown.describe(record.getMessage())
        elif record.getMessage().startswith("Finished in state"):
            self.shown.advance(f"{task} done")
        else:
            self.shown.describe(task)


@contextmanager
def following_tasks(shown: Bar, enabled: bool) -> Iterator[None]:
    """While a flow runs, show its stages on ``shown`` instead of Prefect's INFO lines."""
    if not enabled:
        yield
        return
    handler = _StageHandler(shown)
    loggers = [logging.getLogger(n) for n in ("prefect.flow_runs", "prefect.task_runs")]
    quieted = [(h, h.level) for h in logging.getLogger().handlers if h.level < logging.WARNING]
    for logger in loggers:
        logger.addHandler(handler)
    for h, _ in quieted:
        h.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        for h, level in quieted:
            h.setLevel(level)
