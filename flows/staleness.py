"""How old each partner's data is, and when too much of a list rests on old data.

A partner source is **stale** on the as-of date D when its newest row is more than its
``max_age_days`` before D (or it has no row at all); every listed person whose consent
covers a stale source carries the ``stale_data`` flag (``outreach.assemble``). A list where
most rows carry it is not worth a counsellor's morning: three months past the newest
extracts, every row was flagged and still published. So the nightly run stops before
publishing when the flagged share of listed persons exceeds ``outreach.max_stale_share``,
and ``ennakko validate --as-of D`` shows each source's age beforehand.

Pure functions over dates and counts: no clock, no file, no personal value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from features.errors import SourceError


@dataclass(frozen=True)
class SourceAge:
    """One partner source's newest row on an as-of date."""

    source: str  # partner name (its rows are events/<source>)
    newest: date | None
    as_of: date
    max_age_days: int

    @property
    def age_days(self) -> int | None:
        """Days from the newest row to the as-of date (negative: rows after it)."""
        return None if self.newest is None else (self.as_of - self.newest).days

    @property
    def stale(self) -> bool:
        """The rule of ``flows.pipeline.stale_sources``: missing, or older than allowed."""
        return self.newest is None or (self.as_of - self.newest).days > self.max_age_days

    def describe(self) -> str:
        if self.newest is None:
            return f"events/{self.source} has no rows (allowed age {self.max_age_days} days)"
        return (
            f"events/{self.source}: newest row {self.newest.isoformat()}, {self.age_days} days "
            f"old on {self.as_of.isoformat()} (allowed {self.max_age_days})"
        )


def source_ages(
    newest: Mapping[str, date | None], max_age_days: Mapping[str, int], as_of: date
) -> list[SourceAge]:
    """The age of every configured partner source on ``as_of`` (a missing one is stale)."""
    return [SourceAge(name, newest.get(name), as_of, days) for name, days in max_age_days.items()]


def check_stale_share(
    flagged_stale: int,
    listed: int,
    limit: float,
    as_of: date,
    newest: Mapping[str, date | None],
    max_age_days: Mapping[str, int],
) -> None:
    """Stop the run when more than ``limit`` of the listed persons would be flagged stale.

    Parameters
    ----------
    flagged_stale, listed
        Listed rows carrying the ``stale_data`` flag, and all listed rows, over every team.
    limit
        ``outreach.max_stale_share``: 1.0 never stops, 0.0 stops on any flagged row.
    newest, max_age_days
        Each partner's newest row date (``Inputs.newest_event``) and allowed age.

    Raises
    ------
    SourceError
        Naming every stale source with its age, the flagged count and share, and what to do.
    """
    if listed <= 0 or flagged_stale / listed <= limit:
        return
    ages = source_ages(newest, max_age_days, as_of)
    stale = [a for a in ages if a.stale]
    share = flagged_stale / listed
    names = ", ".join(f"events/{a.source}" for a in stale) or "partner sources"
    raise SourceError(
        names,
        f"the data is too old for the lists of {as_of.isoformat()}: "
        + "; ".join(a.describe() for a in stale)
        + f". {flagged_stale:,} of {listed:,} listed persons ({share:.0%}) would be flagged "
        f"stale_data, above outreach.max_stale_share ({limit:.0%}), so the run stops before "
        "publishing and the previous lists stay.",
        hint="Ask the partners for fresh extracts (`ennakko validate --as-of "
        f"{as_of.isoformat()}` shows each source's age), run for an earlier --as-of, or raise "
        "outreach.max_stale_share if lists on old data are acceptable.",
    )
