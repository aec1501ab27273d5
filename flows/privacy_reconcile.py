"""Who was scored and listed on a published date, against the consent register on that date.

The check the record of processing leads with: anyone scored or listed without a valid
consent, or after erasure, is counted and must be none. Apart from the report's prose so
the rule can be read (and tested) on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from features.consent import consent_state
from flows.privacy import erased_hashes, erased_ids, layer_id
from flows.settings import Settings
from flows.workspace import Workspace


@dataclass
class Reconciliation:
    """Persons scored and listed on one published date against consent on that date."""

    as_of: date
    scored: int = 0
    scored_valid: int = 0
    listed: int = 0
    listed_valid: int = 0
    erased_present: int = 0
    withdrawn_since: int = 0
    notes: list[str] = field(default_factory=list)
    scores_checked: bool = True
    violations: int = 0  # distinct persons counted in any must-be-zero row


def cell_count(n: int, min_cell: int) -> str:
    """A count as shown: "< N" under the minimum cell size (zero stays zero)."""
    return f"< {min_cell}" if 0 < n < min_cell else f"{n:,}"


def newest_published(ws: Workspace) -> tuple[date, Path] | None:
    """The newest ``lists/<D>`` that points at a published version."""
    root = ws.path("lists")
    found = []
    for link in root.iterdir() if root.exists() else ():
        try:
            day = date.fromisoformat(link.name)
        except ValueError:
            continue
        if link.is_dir():
            found.append((day, link))
    return max(found) if found else None


def reconcile(
    ws: Workspace,
    settings: Settings,
    consents: pl.DataFrame,
    day: date,
    folder: Path,
    today: date,
    *,
    audit_key: bytes | None,
    pseudonym_key: bytes | None,
) -> Reconciliation:
    """Count who was scored and listed on ``day`` with and without a valid consent then.

    ``consents`` is the consent register as read (pseudonyms as issued). Scores hold the
    second-layer ids when ``ENNAKKO_PSEUDONYM_KEY`` was on; they are mapped back with the
    key, and left unchecked (said so) when the key is missing.
    """
    result = Reconciliation(as_of=day)
    state = consent_state(consents, day, settings.consent, settings.partners)
    may_score = set(state.filter(pl.col("can_score"))["person_id"].to_list())
    may_list = set(state.filter(pl.col("can_score") & pl.col("can_contact"))["person_id"].to_list())
    may_contact = set(state.filter(pl.col("can_contact"))["person_id"].to_list())
    listed: set[str] = set()
    asked: set[str] = set()  # asked to be contacted (section "asked"): contact consent suffices
    for file in sorted(folder.glob("*.parquet")):
        frame = pl.read_parquet(file)
        listed |= set(frame["person_id"].to_list())
        if "section" in frame.columns:
            asked |= set(frame.filter(pl.col("section") == "asked")["person_id"].to_list())
    result.listed = len(listed)
    result.listed_valid = len((listed - asked) & may_list) + len(asked & may_contact)
    scored: set[str] = set()
    scores = ws.path("scores", f"{day.isoformat()}.parquet")
    if scores.exists():
        scored = set(pl.read_parquet(scores, columns=["person_id"])["person_id"].to_list())
    else:
        result.notes.append(f"No scores were kept for {day.isoformat()} (retention, or removed).")
    register = consents["person_id"].unique().to_list()
    if pseudonym_key:
        back = {layer_id(p, pseudonym_key): p for p in register}
        scored = {back.get(p, p) for p in scored}
    elif scored and not scored & set(register):
        result.scores_checked = False
        result.notes.append(
            "The scores hold second-layer pseudonyms and ENNAKKO_PSEUDONYM_KEY is not set, so "
            "the scored persons could not be matched with the consent register."
        )
    result.scored = len(scored)
    result.scored_valid = len(scored & may_score)
    offenders = (
        ((listed - asked) - may_list)
        | (asked - may_contact)
        | ((scored - may_score) if result.scores_checked else set())
    )
    if audit_key is not None:
        erased = (scored | listed) & set(erased_ids(ws, consents.select("person_id"), audit_key))
        result.erased_present = len(erased)
        offenders |= erased
    elif erased_hashes(ws):
        result.notes.append("No audit key: erased persons could not be looked for.")
    result.violations = len(offenders)
    if today > day:
        now = consent_state(consents, today, settings.consent, settings.partners)
        ended = set(now.filter(~pl.col("can_contact"))["person_id"].to_list())
        result.withdrawn_since = len(listed & ended)
    return result


def consent_headline(rec: Reconciliation | None, published: tuple[date, Path] | None) -> str:
    if published is None:
        return "**Consent reconciliation:** no list has been published yet."
    if rec is None:
        return (
            "**Consent reconciliation: not done.** The consent register could not be read, so "
            f"the lists of {published[0].isoformat()} were not checked against it."
        )
    if rec.violations:
        return (
            f"**⚠ CONSENT RECONCILIATION FAILED: {rec.violations:,} person(s) were scored or "
            f"listed on {rec.as_of.isoformat()} without a valid consent, or after erasure.** "
            "See 'Who was scored and listed'; stop the nightly runs and investigate."
        )
    scope = f"all {rec.scored:,} scored and " if rec.scores_checked else ""
    return (
        f"**Consent reconciliation of {rec.as_of.isoformat()}: {scope}all {rec.listed:,} "
        "listed persons had a valid consent on that date; no erased person was found.**"
    )


def reconciliation_section(
    rec: Reconciliation | None, published: tuple[date, Path] | None, min_cell: int
) -> list[str]:
    lines = ["## Who was scored and listed, against consent", ""]
    if published is None:
        return [*lines, "No list has been published yet.", ""]
    if rec is None:
        return [*lines, "The consent register could not be read: not reconciled.", ""]
    mark = "must be 0"
    not_scored = rec.scored - rec.scored_valid
    not_listed = rec.listed - rec.listed_valid
    lines += [
        f"The newest published lists, of {rec.as_of.isoformat()}, against the consent "
        f"register on that date (the same rules as the consent gate).",
        "",
        "| persons on " + rec.as_of.isoformat() + " | count |",
        "| --- | ---: |",
    ]
    if rec.scores_checked:
        lines += [
            f"| scored | {rec.scored:,} |",
            f"| scored with a valid `scoring` consent | {rec.scored_valid:,} |",
            f"| **scored without a valid `scoring` consent** ({mark}) | **{not_scored:,}** |",
        ]
    lines += [
        f"| listed | {rec.listed:,} |",
        f"| listed with a valid `scoring` and `contact` consent | {rec.listed_valid:,} |",
        f"| **listed without a valid `contact` consent** ({mark}) | **{not_listed:,}** |",
        f"| **erased persons still in these lists or scores** ({mark}) | "
        f"**{rec.erased_present:,}** |",
        "",
    ]
    if rec.withdrawn_since:
        lines += [
            f"{cell_count(rec.withdrawn_since, min_cell)} listed person(s) may no longer be "
            "contacted (withdrawn or expired since): the next run leaves them out, and these "
            "lists are deleted when their retention ends.",
            "",
        ]
    lines += [*rec.notes, ""] if rec.notes else []
    return lines
