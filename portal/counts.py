"""How many arrive from each channel and take each later step, per day: counts only.

``/?c=<channel>`` counts an ``arrival`` without a cookie or session (the channel comes
only from the address); opening the privacy notice from a page that knows the channel
counts ``notice`` (the link carries ``c``: before login there is no session to carry it);
at login the channel moves into the session, so the later steps (``login``, ``consent``,
``contact_request``, ``withdrawal``, ``erasure``) count under it. Nothing about the person, their address or their browser is kept: a row is a day, a
channel, a step and a number. :func:`table` gives the figures to the reports.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest

from flows import clock
from portal.models import ArrivalCount

SESSION_KEY = "portal_channel"
DIRECT = "direct"


def channel_in(value: str | None) -> str:
    """``value`` if it is a configured channel, else ``direct``."""
    return value if value in settings.PORTAL_CHANNELS else DIRECT


def channel_of(request: HttpRequest) -> str:
    """The channel the logged-in person arrived from (kept in their session at login)."""
    session = getattr(request, "session", None)
    return channel_in(session.get(SESSION_KEY) if session is not None else None)


def count(channel: str, step: str, day: date | None = None) -> None:
    """Add one to ``(day, channel, step)``: an ``F("n") + 1`` update, or the row's first
    insert (a concurrent first insert loses the race to the unique constraint and updates)."""
    if step not in ArrivalCount.STEPS:
        raise ValueError(f"unknown step {step!r}")
    day = day or clock.today(settings.TIME_ZONE)
    key = {"day": day, "channel": channel_in(channel), "step": step}
    if ArrivalCount.objects.filter(**key).update(n=F("n") + 1):
        return
    try:
        with transaction.atomic():
            ArrivalCount.objects.create(**key, n=1)
    except IntegrityError:
        ArrivalCount.objects.filter(**key).update(n=F("n") + 1)


def table(since: date | None = None, until: date | None = None):
    """The counts as a polars frame: one row per day and channel, one column per step
    (zeros where nobody took it), sorted by day and channel."""
    import polars as pl

    rows = ArrivalCount.objects.all()
    if since:
        rows = rows.filter(day__gte=since)
    if until:
        rows = rows.filter(day__lte=until)
    long = pl.DataFrame(
        list(rows.values("day", "channel", "step", "n")),
        schema={"day": pl.Date, "channel": pl.String, "step": pl.String, "n": pl.Int64},
        orient="row",
    )
    wide = pl.DataFrame(schema={"day": pl.Date, "channel": pl.String})
    if long.height:
        wide = long.pivot(on="step", index=["day", "channel"], values="n")
    return (
        wide.with_columns(
            [
                pl.lit(0, dtype=pl.Int64).alias(s)
                for s in ArrivalCount.STEPS
                if s not in wide.columns
            ]
        )
        .select("day", "channel", *[pl.col(s).fill_null(0) for s in ArrivalCount.STEPS])
        .sort("day", "channel")
    )
