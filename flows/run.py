"""One run's context: settings, workspace, keys, dates, and where it reports progress.

Kept apart from the pipeline's stages so that commands which only touch the workspace
(erase, retention, reviews, audit) import it without the feature and model machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flows.audit import AuditLog, log_path
from flows.runtime import Keys
from flows.settings import Settings
from flows.workspace import Workspace


@dataclass
class RunContext:
    """Who, what and when of one run; the clock is read once, by the entry point."""

    settings: Settings
    ws: Workspace
    keys: Keys
    as_of: date
    today: date
    run_id: str
    kind: str  # nightly | train | bench
    notes: dict[str, Any] = field(default_factory=dict)
    say: Callable[[str], None] = field(default=lambda message: None, repr=False)

    @property
    def audit(self) -> AuditLog:
        """The workspace's audit log, chained under the run's audit key."""
        return AuditLog(log_path(self.ws.root), self.keys.audit, self.ws.file_mode)
