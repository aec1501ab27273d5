"""``ennakko validate``: check every configured source without running anything else.

Each source is read and checked against its contract exactly as a run would, but instead
of stopping at the first problem every source gets a verdict: ``ok``, ``quarantine``
(refused rows under the limit: a run goes on and keeps them aside) or ``fail`` (a run
would stop), with its refused rows counted by reason and its warnings (columns dropped at
the door, empty lines skipped, duplicates dropped). Reasons and messages never quote a
pseudonym or a contact detail. Nothing is written.

Every source also shows its newest row and that row's age on the as-of date D; a partner
source older than its ``max_age_days`` is ``stale``. A stale source alone does not stop a
run: the run stops when more than ``outreach.max_stale_share`` of its listed persons would
be flagged ``stale_data`` (``flows.staleness``). Who is listed is known only after scoring,
so validate estimates that share over everyone who may be listed on D (valid scoring and
contact consent, not already a client) and says a run would stop when the estimate is
above the limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from features.consent import consent_state, in_scope
from features.contracts import Context
from features.errors import SourceError
from features.readers import source_exists
from features.sources import CORE, OPTIONAL, enforce_policy, load_source
from features.spec import ReadSpec
from flows.settings import Settings
from flows.staleness import SourceAge
from indicators import read_indicators

# The column that dates a core source's rows (contacts have none).
DATED = {
    "consents": "given_at",
    "outcomes": "registered_at",
    "services": "start",
    "contact_requests": "requested_at",
}


@dataclass
class SourceReport:
    source: str
    path: str
    rows: int = 0
    refused: int = 0
    duplicates: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    policy: str = "fail"
    verdict: str = "ok"
    error: str | None = None
    newest: date | None = None  # newest usable row's date (None: undated or unread)
    age: SourceAge | None = None  # partner sources: age against max_age_days

    @property
    def stale(self) -> bool:
        return self.age is not None and self.verdict != "fail" and self.age.stale


@dataclass
class Validation:
    """Every source's report on one as-of date, and the stale-data estimate."""

    as_of: date
    reports: list[SourceReport]
    limit: float  # outreach.max_stale_share
    may_be_listed: int | None = None  # persons who may be listed on as_of (None: unknown)
    covered_by_stale: int | None = None  # of them, consented to a stale source

    @property
    def failed(self) -> list[str]:
        return [r.source for r in self.reports if r.verdict == "fail"]

    @property
    def stale(self) -> list[SourceReport]:
        return [r for r in self.reports if r.stale]

    @property
    def stale_share(self) -> float | None:
        if not self.may_be_listed or self.covered_by_stale is None:
            return None
        return self.covered_by_stale / self.may_be_listed

    @property
    def stale_stops(self) -> bool:
        """Whether a run on ``as_of`` would likely stop on stale data (an estimate)."""
        share = self.stale_share
        return share is not None and share > self.limit


def sent_optional(settings: Settings) -> list[str]:
    """The optional sources (contact_requests) that were sent: only those are checked."""
    return [
        n for n in OPTIONAL if source_exists(settings.data_dir, n, getattr(settings.sources, n))
    ]


def validate_all(settings: Settings, today: date, as_of: date | None = None) -> Validation:
    """A report per configured source (core, partners, then indicator files) on ``as_of``.

    ``today`` is the extract date the contracts check dates against (as a run has it:
    the later of the clock's date and the as-of date); ``as_of`` (default ``today``) is the
    date ages are counted to.

    Raises
    ------
    SourceError
        When the data folder itself is missing (one message rather than one per source).
    """
    if not settings.data_dir.is_dir():
        raise SourceError(
            str(settings.data_dir),
            "the data folder does not exist, so no source can be read.",
            hint="Check data_dir in the configuration (or ENNAKKO_DATA_DIR); "
            "for the demo, `make demo` creates it.",
        )
    as_of = as_of or today
    reference = max(today, as_of)
    reports = []
    frames: dict[str, pl.DataFrame] = {}
    partners = tuple(settings.partners)
    specs: list[tuple[str, ReadSpec, bool]] = [
        (n, getattr(settings.sources, n), False) for n in CORE
    ]
    specs += [(n, getattr(settings.sources, n), False) for n in sent_optional(settings)]
    specs += [(n, spec, True) for n, spec in settings.partners.items()]
    for name, spec, partner in specs:
        label = f"events/{name}" if partner else name
        ctx = Context(reference, partners, getattr(spec, "event_types", ()))
        report = SourceReport(source=label, path="", policy=spec.on_error)
        try:
            # load_source applies the policy itself; ask for the report first, then judge.
            relaxed = spec.model_copy(update={"on_error": "quarantine", "max_bad_share": 1.0})
            result, path = load_source(settings.data_dir, name, relaxed, ctx, partner=partner)
            report.path = str(path)
            report.rows = result.rows_read
            report.refused = result.bad.height
            report.duplicates = result.duplicates_dropped
            report.reasons = result.reasons()
            report.warnings = result.warnings
            report.newest = _newest(result.good, "event_date" if partner else DATED.get(name))
            if not partner:
                frames[name] = result.good
            try:
                enforce_policy(result, spec)
                report.verdict = "quarantine" if report.refused else "ok"
            except SourceError as exc:
                report.verdict, report.error = "fail", exc.describe()
        except SourceError as exc:
            report.verdict, report.error = "fail", exc.describe()
            report.path = exc.source
        if partner:
            report.age = SourceAge(name, report.newest, as_of, settings.partners[name].max_age_days)
        reports.append(report)
    for file in settings.indicators.files:
        path = settings.data_dir / file
        report = SourceReport(source=f"indicators/{path.name}", path=str(path))
        try:
            table = read_indicators(path)
            report.rows = table.data.height
            report.warnings = list(table.report.notes)
            if table.report.dropped_missing:
                report.warnings.append(f"{table.report.dropped_missing} missing cells dropped")
        except SourceError as exc:
            report.verdict, report.error = "fail", exc.describe()
        reports.append(report)
    result = Validation(as_of, reports, settings.outreach.max_stale_share)
    stale = [r.age.source for r in result.stale if r.age is not None]
    if "consents" in frames and "services" in frames:
        result.may_be_listed, result.covered_by_stale = _stale_coverage(
            settings, frames["consents"], frames["services"], as_of, stale
        )
    return result


def _newest(frame: pl.DataFrame, column: str | None) -> date | None:
    if column is None or column not in frame.columns or frame.is_empty():
        return None
    value = frame[column].max()
    return value if isinstance(value, date) else None


def _stale_coverage(
    settings: Settings,
    consents: pl.DataFrame,
    services: pl.DataFrame,
    as_of: date,
    stale: list[str],
) -> tuple[int, int]:
    """Persons who may be listed on ``as_of``, and how many of them a stale source covers."""
    state = consent_state(consents, as_of, settings.consent, settings.partners)
    eligible = in_scope(state, services).filter(pl.col("can_contact"))
    if not stale or eligible.is_empty():
        return eligible.height, 0
    covered = eligible.filter(pl.any_horizontal([pl.col(f"source_{p}") for p in stale]))
    return eligible.height, covered.height
