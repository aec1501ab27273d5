"""Process set-up at the entry point: environment for Prefect and MLflow, file modes, keys.

Prefect and MLflow read their settings from the environment, so this runs before either
is imported: Prefect's home (and its ephemeral database) and MLflow's store go inside the
workspace, telemetry is off (the machines are offline), and new files are owner-only.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from flows.settings import Settings
from flows.workspace import Workspace


@dataclass(frozen=True)
class Keys:
    """Secrets of one run; never logged, never written beside what they protect."""

    pseudonym: bytes | None = field(repr=False)
    audit: bytes = field(repr=False)


def configure(settings: Settings) -> Workspace:
    """Prepare the process for a run with ``settings``; returns the ready workspace.

    Raises ``WorkspaceUnwritableError`` at once when the workspace cannot be written.
    """
    from flows.lock import unwritable

    os.umask(0o077)
    try:
        ws = Workspace.from_modes(
            settings.workspace, settings.privacy.dir_mode, settings.privacy.file_mode
        ).ensure()
        ws.probe_writable()
    except OSError as exc:
        raise unwritable(settings.workspace, exc) from None
    env = {
        "PREFECT_HOME": str(settings.prefect_home),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "DO_NOT_TRACK": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_TRACKING_URI": settings.mlflow_uri,
        "GIT_PYTHON_REFRESH": "quiet",
    }
    for key, value in env.items():
        os.environ.setdefault(key, value)
    if settings.prefect.api_url:
        os.environ["PREFECT_API_URL"] = settings.prefect.api_url
    ws.mkdir(settings.prefect_home)
    if settings.mlflow.tracking_uri is None:
        ws.mkdir(settings.workspace / "mlflow")
        ws.mkdir(settings.mlflow_artifacts)
    return ws


def keys(settings: Settings, ws: Workspace) -> Keys:
    """The run's keys: from the environment, or (audit key only) a workspace secret file."""
    pseudonym = settings.privacy.pseudonym_key
    audit = settings.privacy.audit_key
    return Keys(
        pseudonym=pseudonym.get_secret_value().encode() if pseudonym else None,
        audit=audit.get_secret_value().encode()
        if audit
        else _local_key(ws.path("privacy", "audit.key")),
    )


def _local_key(path: Path) -> bytes:
    """A random key kept owner-only in the workspace when ENNAKKO_AUDIT_KEY is not set."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
