"""The one place Ennakko reads the clock: every date and time of a run comes from here.

A run's dates are in the city's configured time zone (``settings.timezone``), never the
machine's: an operator in another zone, or a container set to UTC, gets the same run
date as the city. Tests pass a fixed ``as_of`` instead of patching the clock.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def now(timezone: str) -> datetime:
    """The current time, aware, in ``timezone`` (an IANA name such as Europe/Helsinki)."""
    return datetime.now(ZoneInfo(timezone))


def today(timezone: str) -> date:
    """Today's date in ``timezone``."""
    return now(timezone).date()


def from_timestamp(seconds: float, timezone: str) -> datetime:
    """A file's modification time (seconds since the epoch) in ``timezone``."""
    return datetime.fromtimestamp(seconds, ZoneInfo(timezone))
