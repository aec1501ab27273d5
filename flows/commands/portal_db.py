"""Reading the consent portal's database from a command (``partners requests``,
``funnel``): only where a portal runs, with Django loaded only then.

The demo's portal keeps SQLite in the workspace; production names PostgreSQL in
``PORTAL_DATABASE_URL``. Without either there is no portal: the reader is not called and
Django is never imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from flows.settings import Settings

T = TypeVar("T")


def portal_runs(settings: Settings) -> bool:
    """Whether a portal database exists for these settings."""
    sqlite = settings.workspace / "portal" / "db.sqlite3"
    return bool(os.environ.get("PORTAL_DATABASE_URL")) or sqlite.exists()


def read_portal(settings: Settings, read: Callable[[], T], failed: str) -> T:
    """Set Django up on the portal's settings and call ``read``; a bad setting or a
    database that cannot be read is one paragraph naming it (``failed``: what was not
    done because of it), exit 2 through the command's error path."""
    os.environ["ENNAKKO_CONFIG"] = str(settings.config_path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    from features.errors import SourceError

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise SourceError("portal settings", str(exc)) from None
    from django.db import DatabaseError

    try:
        return read()
    except DatabaseError as exc:  # unreachable, or never migrated
        raise SourceError(
            "portal database",
            f"cannot be read ({type(exc).__name__}), so {failed}.",
            hint="Start the portal once (`ennakko portal`) or check PORTAL_DATABASE_URL.",
        ) from None
